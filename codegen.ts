import { type CodegenConfig } from '@graphql-codegen/cli';

// Typed operations for the tests: tests/graphql/*.graphql -> tests/graphql/generated/.
const config: CodegenConfig = {
  schema: 'schema/schema.graphql',
  documents: ['tests/graphql/*.graphql'],
  ignoreNoDocuments: false,
  // NodeNext resolution needs explicit extensions in the generated imports.
  importExtension: '.js',
  generates: {
    'tests/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false, gqlTagName: 'graphql' },
      config: { useTypeImports: true, enumsAsTypes: true, scalars: { DateTime: 'string' } },
    },
  },
};

export default config;
