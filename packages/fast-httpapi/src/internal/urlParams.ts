/**
 * `HttpApiBuilder`'s url-params normalisation (v0.97.2, `normalizeUrlParams`: exported by the module
 * at run time but not in its type declarations, so it is restated here): a key the schema expects as
 * an array arrives as a one-element array when it was given once.
 *
 * @internal
 */
import * as Schema from "effect/Schema"
import type * as AST from "effect/SchemaAST"

const isSingleStringType = (ast: AST.AST, key?: PropertyKey): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "Literal":
    case "TemplateLiteral":
    case "Enums":
      return true
    case "TypeLiteral": {
      if (key !== undefined) {
        const ps = ast.propertySignatures.find((ps) => ps.name === key)
        return ps !== undefined
          ? isSingleStringType(ps.type, key)
          : ast.indexSignatures.some((is) => Schema.is(Schema.make(is.parameter))(key) && isSingleStringType(is.type))
      }
      return false
    }
    case "Union":
      return ast.types.some((type) => isSingleStringType(type, key))
    case "Suspend":
      return isSingleStringType(ast.f(), key)
    case "Refinement":
    case "Transformation":
      return isSingleStringType(ast.from, key)
  }
  return false
}

export const normalizeUrlParams = (
  params: Readonly<Record<string, string | Array<string>>>,
  ast: AST.AST
): Record<string, string | Array<string>> => {
  const out: Record<string, string | Array<string>> = {}
  for (const key in params) {
    const value = params[key]
    out[key] = Array.isArray(value) || isSingleStringType(ast, key) ? value : [value]
  }
  return out
}
