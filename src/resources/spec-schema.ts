// Turns a zod schema into a ResourceDefinition validator whose errors name the field (`spec.certificates.server.crt`).
import type { ZodType, ZodTypeDef } from 'zod';
import { ValidationError } from '../runtime/errors.js';

export function specValidator<Spec>(type: string, schema: ZodType<Spec, ZodTypeDef, unknown>): (spec: unknown) => Spec {
  return (spec) => {
    const result = schema.safeParse(spec);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = ['spec', ...issue.path.map(String)].join('.');
    throw new ValidationError(`${type} ${field}`, issue.message);
  };
}
