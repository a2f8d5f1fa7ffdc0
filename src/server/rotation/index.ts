// The public face of the CA rotation driver.
export { startRotationDriver, ROTATION_BACKOFF } from './rotation-driver.js';
export type { RotationDriver, RotationDriverOptions } from './rotation-driver.js';
export { UNKNOWN_AUTHORITY } from './connectivity.js';
export { caFieldsAt } from './rotation-plan.js';
