/** The engine version written into every log header (kept equal to package.json by a test). */
export const ENGINE_VERSION = '0.6.0';
