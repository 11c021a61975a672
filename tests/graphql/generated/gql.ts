/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation UpsertItems($items: [ItemInput!]!) {\n  upsertItems(items: $items)\n}\n\nquery GetItem($id: ID!) {\n  item(id: $id) {\n    id\n    title\n    imageUrl\n    embedding\n  }\n}\n\nquery ListItems($first: Int!, $after: String) {\n  items(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n      }\n    }\n  }\n}\n\nmutation RateItem($user: ID!, $item: ID!, $score: Int!) {\n  rateItem(user: $user, item: $item, score: $score) {\n    score\n    liked\n    createdAt\n    updatedAt\n    user {\n      id\n      ratingCount\n    }\n    item {\n      id\n    }\n  }\n}": typeof types.UpsertItemsDocument,
    "mutation CreateUser($id: ID!) {\n  createUser(id: $id) {\n    id\n    createdAt\n    ratingCount\n    likedCount\n  }\n}\n\nquery GetUser($id: ID!) {\n  user(id: $id) {\n    id\n    ratingCount\n    likedCount\n    ratings(first: 50) {\n      totalCount\n      edges {\n        cursor\n        node {\n          score\n          liked\n          item {\n            id\n          }\n        }\n      }\n    }\n  }\n}\n\nquery ListUsers($first: Int!, $after: String) {\n  users(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        id\n        ratingCount\n      }\n    }\n  }\n}": typeof types.CreateUserDocument,
};
const documents: Documents = {
    "mutation UpsertItems($items: [ItemInput!]!) {\n  upsertItems(items: $items)\n}\n\nquery GetItem($id: ID!) {\n  item(id: $id) {\n    id\n    title\n    imageUrl\n    embedding\n  }\n}\n\nquery ListItems($first: Int!, $after: String) {\n  items(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n      }\n    }\n  }\n}\n\nmutation RateItem($user: ID!, $item: ID!, $score: Int!) {\n  rateItem(user: $user, item: $item, score: $score) {\n    score\n    liked\n    createdAt\n    updatedAt\n    user {\n      id\n      ratingCount\n    }\n    item {\n      id\n    }\n  }\n}": types.UpsertItemsDocument,
    "mutation CreateUser($id: ID!) {\n  createUser(id: $id) {\n    id\n    createdAt\n    ratingCount\n    likedCount\n  }\n}\n\nquery GetUser($id: ID!) {\n  user(id: $id) {\n    id\n    ratingCount\n    likedCount\n    ratings(first: 50) {\n      totalCount\n      edges {\n        cursor\n        node {\n          score\n          liked\n          item {\n            id\n          }\n        }\n      }\n    }\n  }\n}\n\nquery ListUsers($first: Int!, $after: String) {\n  users(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        id\n        ratingCount\n      }\n    }\n  }\n}": types.CreateUserDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation UpsertItems($items: [ItemInput!]!) {\n  upsertItems(items: $items)\n}\n\nquery GetItem($id: ID!) {\n  item(id: $id) {\n    id\n    title\n    imageUrl\n    embedding\n  }\n}\n\nquery ListItems($first: Int!, $after: String) {\n  items(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n      }\n    }\n  }\n}\n\nmutation RateItem($user: ID!, $item: ID!, $score: Int!) {\n  rateItem(user: $user, item: $item, score: $score) {\n    score\n    liked\n    createdAt\n    updatedAt\n    user {\n      id\n      ratingCount\n    }\n    item {\n      id\n    }\n  }\n}"): (typeof documents)["mutation UpsertItems($items: [ItemInput!]!) {\n  upsertItems(items: $items)\n}\n\nquery GetItem($id: ID!) {\n  item(id: $id) {\n    id\n    title\n    imageUrl\n    embedding\n  }\n}\n\nquery ListItems($first: Int!, $after: String) {\n  items(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      node {\n        id\n        title\n      }\n    }\n  }\n}\n\nmutation RateItem($user: ID!, $item: ID!, $score: Int!) {\n  rateItem(user: $user, item: $item, score: $score) {\n    score\n    liked\n    createdAt\n    updatedAt\n    user {\n      id\n      ratingCount\n    }\n    item {\n      id\n    }\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation CreateUser($id: ID!) {\n  createUser(id: $id) {\n    id\n    createdAt\n    ratingCount\n    likedCount\n  }\n}\n\nquery GetUser($id: ID!) {\n  user(id: $id) {\n    id\n    ratingCount\n    likedCount\n    ratings(first: 50) {\n      totalCount\n      edges {\n        cursor\n        node {\n          score\n          liked\n          item {\n            id\n          }\n        }\n      }\n    }\n  }\n}\n\nquery ListUsers($first: Int!, $after: String) {\n  users(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        id\n        ratingCount\n      }\n    }\n  }\n}"): (typeof documents)["mutation CreateUser($id: ID!) {\n  createUser(id: $id) {\n    id\n    createdAt\n    ratingCount\n    likedCount\n  }\n}\n\nquery GetUser($id: ID!) {\n  user(id: $id) {\n    id\n    ratingCount\n    likedCount\n    ratings(first: 50) {\n      totalCount\n      edges {\n        cursor\n        node {\n          score\n          liked\n          item {\n            id\n          }\n        }\n      }\n    }\n  }\n}\n\nquery ListUsers($first: Int!, $after: String) {\n  users(first: $first, after: $after) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    edges {\n      cursor\n      node {\n        id\n        ratingCount\n      }\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;