// Join tokens: making, listing and revoking them (apid and `trustctl token --state`), and the static token switch.
export * from './join-token-admin.js';
export * from './join-token-request.js';
export * from './join-token-audit.js';
