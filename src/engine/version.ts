/** Engine software version, written into metadata and sidecars (keep in step with package.json). */
export const SOFTWARE_VERSION = '0.4.4';
