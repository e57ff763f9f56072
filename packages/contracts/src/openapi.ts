import { z } from 'zod';

/**
 * OpenAPI 3.1 documents generated from the contracts' zod schemas with zod's own JSON Schema
 * generator (`z.toJSONSchema`, draft 2020-12, which OpenAPI 3.1 uses). Response schemas go to
 * `components.schemas` as they are sent (`io: 'output'`: unknown properties are not allowed, so a
 * test of live answers against the document notices a field the contract lacks); request bodies
 * and parameters are described as they are accepted (`io: 'input'`).
 */

type Method = 'get' | 'post' | 'delete';

export interface Route {
  method: Method;
  path: string;
  summary: string;
  description?: string;
  /** path parameters: name → schema (+ description) */
  params?: Record<string, { schema: z.ZodType; description?: string }>;
  /** query parameters: an object schema, one parameter per property */
  query?: z.ZodObject;
  body?: z.ZodType;
  /** status → a named response schema (in `schemas`), or a description of a non-JSON answer */
  responses: Record<
    number,
    { schema: z.ZodType; description: string } | { description: string; contentType?: string }
  >;
  /** error statuses this route answers with the Error schema */
  errors?: number[];
  security?: Record<string, string[]>[];
}

export interface OpenApiSpec {
  title: string;
  version: string;
  description: string;
  /** named response schemas → components.schemas (as sent); must include `Error` */
  schemas: Record<string, z.ZodType>;
  /** named request bodies → components.schemas (as accepted); their names differ from the responses' */
  requests?: Record<string, z.ZodType>;
  securitySchemes?: Record<string, unknown>;
  routes: Route[];
}

type Json = Record<string, unknown>;

function strip(schema: Json): Json {
  const { $schema: _s, $id: _i, id: _id, ...rest } = schema;
  return rest;
}

/** A request body or parameter as accepted, inline (a named schema's definition in place of its `$ref`). */
function inputSchema(schema: z.ZodType): Json {
  const out = strip(
    z.toJSONSchema(schema, {
      io: 'input',
      target: 'draft-2020-12',
      reused: 'inline',
      unrepresentable: 'any',
    }) as Json,
  );
  const { $ref, $defs, ...rest } = out as { $ref?: string; $defs?: Record<string, Json> };
  const name = $ref?.startsWith('#/$defs/') ? $ref.slice('#/$defs/'.length) : undefined;
  if (!name || !$defs?.[name]) return out;
  const { [name]: self, ...others } = $defs;
  return { ...strip(self as Json), ...rest, ...(Object.keys(others).length ? { $defs: others } : {}) };
}

/** The OpenAPI document of `spec`. */
export function openApiDocument(spec: OpenApiSpec): Json {
  const ids = new Map<z.ZodType, string>();
  const generate = (named: Record<string, z.ZodType>, io: 'input' | 'output') => {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(named)) {
      registry.add(schema, { id });
      ids.set(schema, id);
    }
    const out = z.toJSONSchema(registry, {
      io,
      target: 'draft-2020-12',
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    }) as { schemas: Record<string, Json> };
    return Object.entries(out.schemas).map(([k, v]) => [k, strip(v)] as const);
  };
  const components = Object.fromEntries([
    ...generate(spec.schemas, 'output'),
    ...generate(spec.requests ?? {}, 'input'),
  ]);
  const ref = (schema: z.ZodType) => {
    const id = ids.get(schema);
    if (!id) throw new Error(`openapi: a response schema of ${spec.title} is not named in its schemas`);
    return { $ref: `#/components/schemas/${id}` };
  };
  const json = (schema: Json) => ({ content: { 'application/json': { schema } } });

  const paths: Record<string, Record<string, Json>> = {};
  for (const r of spec.routes) {
    const parameters = [
      ...Object.entries(r.params ?? {}).map(([name, p]) => ({
        name,
        in: 'path',
        required: true,
        ...(p.description ? { description: p.description } : {}),
        schema: inputSchema(p.schema),
      })),
      ...Object.entries(r.query?.shape ?? {}).map(([name, s]) => {
        const schema = inputSchema(s as z.ZodType);
        const { description, ...rest } = schema;
        return { name, in: 'query', ...(description ? { description } : {}), schema: rest };
      }),
    ];
    const responses: Json = {};
    for (const [status, answer] of Object.entries(r.responses))
      responses[status] =
        'schema' in answer
          ? { description: answer.description, ...json(ref(answer.schema)) }
          : {
              description: answer.description,
              ...(answer.contentType
                ? { content: { [answer.contentType]: { schema: { type: 'string' } } } }
                : {}),
            };
    for (const status of r.errors ?? [])
      responses[String(status)] = { description: 'DCP error', ...json(ref(spec.schemas.Error as z.ZodType)) };
    paths[r.path] ??= {};
    paths[r.path]![r.method] = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? { requestBody: { required: true, ...json(ids.has(r.body) ? ref(r.body) : inputSchema(r.body)) } }
        : {}),
      responses,
      ...(r.security ? { security: r.security } : {}),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: spec.title, version: spec.version, description: spec.description },
    components: {
      schemas: components,
      ...(spec.securitySchemes ? { securitySchemes: spec.securitySchemes } : {}),
    },
    paths,
  };
}
