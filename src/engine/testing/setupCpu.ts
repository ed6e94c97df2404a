/** Test helper: run the engine on the tfjs CPU backend (no GPU in Node tests). */
import { initBackend } from '../backends';

export async function useCpuBackend(): Promise<void> {
  await initBackend('cpu');
}
