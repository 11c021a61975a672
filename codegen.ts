import { type CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  ignoreNoDocuments: false,
  // NodeNext resolution needs explicit extensions in the generated imports.
  importExtension: '.js',
  generates: {
    // Typed operations for the tests: tests/graphql/*.graphql -> tests/graphql/generated/.
    'tests/graphql/generated/': {
      documents: ['tests/graphql/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
    // The typed client example for frontends: examples/client/*.graphql -> examples/client/generated/.
    // Documents as typed strings: a client needs no GraphQL library to send them (fetch, graphql-ws).
    'examples/client/generated/': {
      documents: ['examples/client/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string' },
        documentMode: 'string',
      },
    },
  },
};

export default config;
