import { CatalogEvent, Interaction, RecommendationUpdate } from '@affinity/contracts';
import { z } from 'zod';

const json = (schema: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const error = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string', examples: ['VALIDATION'] }, message: { type: 'string' }, issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } } },
};
const accepted = { type: 'object', properties: { accepted: { type: 'integer' }, eventIds: { type: 'array', items: { type: 'string' } } } };
/** Every error answer has the one shape: {error, message, issues}. */
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const errors = {
  '400': errorResponse('Invalid input (`issues` name the fields), or a URL that does not decode'),
  '401': errorResponse('No API key'),
  '403': errorResponse('Key not allowed for this operation'),
  '414': errorResponse('URL, or a path parameter, too long'),
  '429': errorResponse('Rate limited (RATE_LIMITED), or too many failed authentications from this address (AUTH_RATE_LIMITED); Retry-After says when to retry'),
  '431': errorResponse('Request headers too large'),
};
const bodyErrors = { '413': errorResponse('Body too large'), '415': errorResponse('Body not application/json') };
const listResponse = {
  '200': { description: 'The current list', content: { 'application/json': { schema: { $ref: '#/components/schemas/RecommendationUpdate' } } } },
  '404': errorResponse('No list yet'),
  ...errors,
};
const idParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._:@/+-]*$', maxLength: 128 } });
/** The first k items of a stored list (lists hold RECS_K items). */
const kParam = { name: 'k', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 200 } };
const batchOf = (ref: string) => ({ oneOf: [{ $ref: ref }, { type: 'object', required: ['events'], properties: { events: { type: 'array', items: { $ref: ref }, minItems: 1 } } }] });

let cached: Record<string, unknown> | undefined;

/** OpenAPI 3.1 document, generated from the same zod schemas the API validates with. */
export function openApiDocument(): Record<string, unknown> {
  cached ??= {
    openapi: '3.1.0',
    info: { title: 'Affinity API', version: '1', description: 'Real-time recommendations: ingest catalog and behaviour events, read fresh lists, search, subscribe to updates.' },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' }, bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        CatalogEvent: json(CatalogEvent, 'input'),
        Interaction: json(Interaction, 'input'),
        RecommendationUpdate: json(RecommendationUpdate, 'output'),
        Error: error,
      },
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    paths: {
      '/v1/products': {
        post: {
          summary: 'Create or update products (produced to catalog.products.v1). eventId, type and updatedAt default when omitted.',
          requestBody: { required: true, content: { 'application/json': { schema: batchOf('#/components/schemas/CatalogEvent') } } },
          responses: { '202': { description: 'Accepted', content: { 'application/json': { schema: accepted } } }, ...bodyErrors, ...errors },
        },
      },
      '/v1/products/{productId}': {
        delete: { summary: 'Delete a product; it disappears from every list.', parameters: [idParam('productId')], responses: { '202': { description: 'Accepted', content: { 'application/json': { schema: accepted } } }, ...errors } },
      },
      '/v1/interactions': {
        post: {
          summary: 'Record shopper interactions (produced to interactions.v1). eventId and ts default when omitted.',
          requestBody: { required: true, content: { 'application/json': { schema: batchOf('#/components/schemas/Interaction') } } },
          responses: { '202': { description: 'Accepted', content: { 'application/json': { schema: accepted } } }, ...bodyErrors, ...errors },
        },
      },
      '/v1/users/{userId}/recommendations': { get: { summary: 'Personalized list (trending, labelled as fallback, for unknown users).', parameters: [idParam('userId'), kParam], responses: listResponse } },
      '/v1/items/{productId}/similar': { get: { summary: 'Similar items.', parameters: [idParam('productId'), kParam], responses: listResponse } },
      '/v1/items/{productId}/complementary': { get: { summary: 'Items bought with this one.', parameters: [idParam('productId'), kParam], responses: listResponse } },
      '/v1/trending': { get: { summary: 'Trending items.', parameters: [kParam], responses: listResponse } },
      '/v1/search': {
        get: {
          summary: 'Semantic product search with attribute filters.',
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 512 } },
            { name: 'k', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 10 } },
            { name: 'brand', in: 'query', schema: { type: 'string' } },
            { name: 'category', in: 'query', description: 'Category path prefix, levels separated by >', schema: { type: 'string' } },
            { name: 'minPrice', in: 'query', schema: { type: 'number' } },
            { name: 'maxPrice', in: 'query', schema: { type: 'number' } },
            { name: 'availability', in: 'query', schema: { type: 'string', enum: ['in_stock', 'out_of_stock', 'preorder', 'discontinued'] } },
            { name: 'attr.{name}', in: 'query', description: 'Any extracted attribute, e.g. attr.color=red', schema: { type: 'string' } },
          ],
          responses: { '200': { description: 'Results; complete=false names shards that did not answer' }, '503': { description: 'No embedding model loaded' }, ...errors },
        },
      },
      '/v1/subscribe/{kind}/{subjectId}': {
        get: {
          summary: 'Server-sent events: a comment at once (the stream is open, even for a list that does not exist yet), the current list if there is one, then every update (event: update) or deletion (event: deleted).',
          parameters: [{ name: 'kind', in: 'path', required: true, schema: { type: 'string', enum: ['similar', 'complementary', 'personalized', 'trending'] } }, idParam('subjectId')],
          responses: { '200': { description: 'text/event-stream' }, ...errors },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': { description: 'ok' } } } },
      '/readyz': { get: { summary: 'Readiness', security: [], responses: { '200': { description: 'ok' }, '503': { description: 'not ready' } } } },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics: open unless METRICS_TOKEN is set (then Authorization: Bearer <metrics token>); absent when METRICS_ENABLED=false',
          security: [{}, { bearer: [] }],
          responses: { '200': { description: 'text/plain' }, '401': errorResponse('METRICS_TOKEN is set and the request does not carry it'), '404': errorResponse('METRICS_ENABLED=false') },
        },
      },
    },
  };
  return cached;
}
