export { Viewer } from './Viewer';
export type { ViewerOptions } from './Viewer';
export { labelColormap, labelNames } from './labelColormap';
export type { CursorInfo, UserVolume, ViewState, ViewerLike } from './types';
