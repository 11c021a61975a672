import { GraphQLDateTime } from 'graphql-scalars';
import { Field, ID, ObjectType } from 'type-graphql';
import { type ApiKeyRecord } from '../../records.js';
import { ApiKeyRole } from './enums.js';

@ObjectType({ description: 'An API key as stored: its hash is kept, the key itself was shown once.' })
export class ApiKey {
  @Field(() => ID)
  id!: string;
  @Field(() => String)
  name!: string;
  @Field(() => ApiKeyRole)
  role!: ApiKeyRole;
  @Field(() => String, { description: "The key's first characters, to recognise it (rbk_ and 6 more)." })
  prefix!: string;
  @Field(() => [ID], { nullable: true, description: 'The users a client key may serve; null: any user.' })
  users!: string[] | null;
  @Field(() => GraphQLDateTime)
  createdAt!: Date;
  @Field(() => GraphQLDateTime, { nullable: true, description: 'Set once revoked: the key no longer works.' })
  revokedAt!: Date | null;
  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: 'When a gateway last served a request with it, to within a minute; null: never.',
  })
  lastUsedAt!: Date | null;

  static from(row: ApiKeyRecord): ApiKey {
    return Object.assign(new ApiKey(), {
      id: row.id,
      name: row.name,
      role: row.role as ApiKeyRole,
      prefix: row.keyPrefix,
      users: row.users,
      createdAt: row.createdAt,
      revokedAt: row.revokedAt,
      lastUsedAt: row.lastUsedAt,
    });
  }
}

@ObjectType({ description: 'A new key: `key` is shown this once and cannot be read again.' })
export class CreatedApiKey {
  @Field(() => String, { description: 'Send it as `Authorization: Bearer <key>`.' })
  key!: string;
  @Field(() => ApiKey)
  apiKey!: ApiKey;
}
