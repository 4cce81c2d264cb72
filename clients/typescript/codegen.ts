// Generates src/generated/graphql.ts from the committed schema: the schema's types, one type
// per operation in src/operations.graphql, and typed documents. Every custom scalar is mapped
// to a concrete type (strictScalars: an unmapped one fails generation instead of becoming
// `any` or `unknown`).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../../schema.graphql',
  documents: 'src/operations.graphql',
  generates: {
    'src/generated/graphql.ts': {
      plugins: ['typescript', 'typescript-operations', 'typed-document-node'],
      config: {
        strictScalars: true,
        scalars: {
          Date: 'string',
          DateTime: 'string',
          UUID: 'string',
          JSON: '{ [key: string]: unknown } | unknown[] | string | number | boolean | null',
        },
        enumsAsTypes: true,
        avoidOptionals: { field: true, inputValue: false, object: true },
        useTypeImports: true,
      },
    },
  },
};

export default config;
