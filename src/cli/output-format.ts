// The output formats of `trustctl get`, apart from the printers (resource-output.ts) so that declaring the option
// does not load them.
export const OUTPUT_FORMATS = ['table', 'yaml', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
