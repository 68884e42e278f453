/**
 * Schema decoders and encoders compiled from the AST into plain functions, for the shapes a JSON API
 * sends and answers with: structs, arrays, primitive unions, refinements, declarations and
 * transformations. They follow `ParseResult`'s own algorithm node for node (the same checks in the same
 * order, the same filters and transformations called with the same arguments, the same output), without
 * its per-node `Either`s, issues and options, which were the largest share of the fast server's CPU
 * after the socket writes (apps/bench/README.md).
 *
 * A compiled function only ever answers for a value the schema accepts; on anything else — a failed
 * check, a transformation that fails or goes async — it gives {@link Fallback}, and the caller runs the
 * schema's own parser, so every error (and every edge the compiler did not foresee) is `ParseResult`'s.
 * A schema with a node kind it does not know is not compiled at all (`undefined`). On a fallback, the
 * filters and transformations that already ran run again inside `ParseResult`: like `ParseResult`
 * itself (which may run them more than once too, e.g. across union members), it assumes they are pure.
 * Only success values and requests are compiled; errors are encoded by `ParseResult` alone (each error
 * is tried against the error schemas in turn, and each refusal would cost both).
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import * as AST from "effect/SchemaAST"

/** A compiled parser could not vouch for the value: run the schema's own. */
export const Fallback: unique symbol = Symbol.for("@shop/fast-httpapi/Fallback")

export type Compiled = (input: unknown) => unknown

const options = AST.defaultParseOption

/** What `ParseResult` makes of a transformation's or declaration's result, when it is synchronous. */
const settled = (result: unknown): unknown =>
  Either.isEither(result) && Either.isRight(result) ? result.right : Fallback

/** Not decomposed into parts: refinements of these keep the value as it is. */
const isPrimitive = (ast: AST.AST): boolean => {
  switch (ast._tag) {
    case "StringKeyword":
    case "NumberKeyword":
    case "BooleanKeyword":
    case "UndefinedKeyword":
    case "Literal":
      return true
    case "Refinement":
      return isPrimitive(ast.from)
    default:
      return false
  }
}

const dropRightRefinement = (ast: AST.AST): AST.AST => AST.isRefinement(ast) ? dropRightRefinement(ast.from) : ast

const is = (predicate: (u: unknown) => boolean): Compiled => (u) => predicate(u) ? u : Fallback

type Compile = (ast: AST.AST, isDecoding: boolean) => Compiled | undefined

/** A struct's field: its name, its compiled parser, whether it is optional. */
type Field = readonly [name: string, parse: Compiled, isOptional: boolean]

const typeLiteral = (ast: AST.TypeLiteral, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  if (ast.indexSignatures.length > 0 || ast.propertySignatures.length === 0) return undefined
  const fields: Array<Field> = []
  for (const ps of ast.propertySignatures) {
    if (typeof ps.name !== "string" || ps.name === "__proto__") return undefined
    const field = compile(ps.type, isDecoding)
    if (field === undefined) return undefined
    fields.push([ps.name, field, ps.isOptional])
  }
  if (fields.some(([, , isOptional]) => isOptional)) return fieldByField(fields)
  return generated(fields)
}

const fieldByField = (fields: ReadonlyArray<Field>): Compiled => (input) => {
  if (!Predicate.isRecord(input)) return Fallback
  // as ParseResult with the default options: the declared keys in their order, excess keys dropped
  const output: Record<string, unknown> = {}
  for (const [name, field, isOptional] of fields) {
    if (isOptional && !Object.prototype.hasOwnProperty.call(input, name)) continue
    const value = field(input[name])
    if (value === Fallback) return Fallback
    output[name] = value
  }
  return output
}

/**
 * Every field required: the same steps as {@link fieldByField}, written out for this struct, with
 * the output built by one object literal. A loop of keyed reads and writes over the fields is
 * megamorphic at every property access (one site serves every struct of the API), and an object grown
 * key by key goes through a map transition per key; a generated function per struct has monomorphic
 * named accesses and one object shape. `node apps/bench/dist/codecs.js` (2026-12-07, AMD EPYC): the
 * shop's OrderWithEvents encodes in 3.1–3.7 µs instead of 4.1–4.2 µs, CreateOrder decodes in ~1.0 µs
 * instead of ~1.4 µs. The names go in as JSON string literals, so no name can be code.
 */
const generated = (fields: ReadonlyArray<Field>): Compiled => {
  const steps = fields.map(([name], i) =>
    `const v${i} = f${i}(input[${JSON.stringify(name)}]); if (v${i} === Fallback) return Fallback;`
  )
  const output = fields.map(([name], i) => `${JSON.stringify(name)}: v${i}`)
  try {
    const make = new Function(
      "Fallback",
      "isRecord",
      ...fields.map((_, i) => `f${i}`),
      `return (input) => { if (!isRecord(input)) return Fallback; ${steps.join(" ")} return { ${output.join(", ")} } }`
    )
    return make(Fallback, Predicate.isRecord, ...fields.map(([, field]) => field)) as Compiled
  } catch {
    // code generation disallowed (`node --disallow-code-generation-from-strings`): the loop does the same
    return fieldByField(fields)
  }
}

const arrayOf = (ast: AST.TupleType, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  // `Schema.Array(item)`: no fixed elements, one rest element
  if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
  const item = compile(ast.rest[0].type, isDecoding)
  if (item === undefined) return undefined
  return (input) => {
    if (!Array.isArray(input)) return Fallback
    const output = new Array(input.length)
    for (let i = 0; i < input.length; i++) {
      const value = item(input[i])
      if (value === Fallback) return Fallback
      output[i] = value
    }
    return output
  }
}

const refinement = (ast: AST.Refinement, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  if (isDecoding) {
    const from = compile(ast.from, true)
    if (from === undefined) return undefined
    return (input) => {
      const a = from(input)
      return a === Fallback || Option.isSome(ast.filter(a, options, ast)) ? Fallback : a
    }
  }
  // ParseResult encodes a refinement by decoding its type side (every check) and encoding what it refines
  const from = compile(AST.typeAST(ast), true)
  const to = compile(dropRightRefinement(ast.from), false)
  if (from === undefined || to === undefined) return undefined
  return (input) => {
    const a = from(input)
    return a === Fallback ? Fallback : to(a)
  }
}

const transformation = (ast: AST.Transformation, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  const kind = ast.transformation
  if (kind._tag === "TypeLiteralTransformation") return undefined
  const transform = kind._tag === "FinalTransformation" ? (isDecoding ? kind.decode : kind.encode) : undefined
  const from = isDecoding ? compile(ast.from, true) : compile(ast.to, false)
  const to = isDecoding ? compile(ast.to, true) : compile(ast.from, false)
  if (from === undefined || to === undefined) return undefined
  return (input) => {
    const a = from(input)
    if (a === Fallback) return Fallback
    const b = transform === undefined ? a : settled(transform(a, options, ast, input))
    return b === Fallback ? Fallback : to(b)
  }
}

/** A union of primitives: the value is unchanged by whichever member takes it, so any member will do. */
const primitiveUnion = (ast: AST.Union, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  if (!ast.types.every(isPrimitive)) return undefined
  const members: Array<Compiled> = []
  for (const member of ast.types) {
    const compiled = compile(member, isDecoding)
    if (compiled === undefined) return undefined
    members.push(compiled)
  }
  return (input) => {
    for (const member of members) if (member(input) !== Fallback) return input
    return Fallback
  }
}

const node = (ast: AST.AST, isDecoding: boolean, compile: Compile): Compiled | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return is(Predicate.isString)
    case "NumberKeyword":
      return is(Predicate.isNumber)
    case "BooleanKeyword":
      return is(Predicate.isBoolean)
    case "UndefinedKeyword":
      return is(Predicate.isUndefined)
    case "Literal": {
      const literal = ast.literal
      return is((u) => u === literal)
    }
    case "UnknownKeyword":
    case "AnyKeyword":
      return (u) => u
    case "Declaration": {
      const parse = isDecoding
        ? ast.decodeUnknown(...ast.typeParameters)
        : ast.encodeUnknown(...ast.typeParameters)
      return (input) => settled(parse(input, options, ast))
    }
    case "Refinement":
      return refinement(ast, isDecoding, compile)
    case "Transformation":
      return transformation(ast, isDecoding, compile)
    case "TypeLiteral":
      return typeLiteral(ast, isDecoding, compile)
    case "TupleType":
      return arrayOf(ast, isDecoding, compile)
    case "Union":
      return primitiveUnion(ast, isDecoding, compile)
    default:
      return undefined
  }
}

/**
 * Compiles `ast` for decoding or encoding, or `undefined` when a part of it is beyond the compiler. A
 * node with parse options of its own, or a decoding fallback, is left to `ParseResult`.
 */
export const compile: Compile = (ast, isDecoding) => {
  if (Option.isSome(AST.getParseOptionsAnnotation(ast))) return undefined
  if (isDecoding && Option.isSome(AST.getDecodingFallbackAnnotation(ast))) return undefined
  return node(ast, isDecoding, compile)
}

/**
 * The schema's own `Either` parser, sped up by the compiled one where it can vouch for the value; the
 * same results either way.
 */
export const withCompiled = (
  ast: AST.AST,
  isDecoding: boolean,
  parse: (input: unknown) => Either.Either<unknown, ParseResult.ParseError>
): (input: unknown) => Either.Either<unknown, ParseResult.ParseError> => {
  const compiled = compile(ast, isDecoding)
  if (compiled === undefined) return parse
  return (input) => {
    const output = compiled(input)
    return output === Fallback ? parse(input) : Either.right(output)
  }
}
