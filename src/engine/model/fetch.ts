/** How model files are fetched (the browser's fetch, or a stand-in in Node and tests). */
export type FetchFn = (url: string) => Promise<Response>;
