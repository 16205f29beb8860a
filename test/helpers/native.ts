// Native kernels in tests: they are built at install (scripts/build-native.mjs), so a missing or broken library fails
// the tests that need it, unless MMSA_NATIVE=0 says this machine runs without them (then those tests are skipped).
import { loadNativeKernels, resolveNativeMode, type NativeKernels } from '../../src/runtime/native.js';

export const nativeDisabled = resolveNativeMode() === 'off';

export function requireNative(): NativeKernels {
  const { mod, status } = loadNativeKernels();
  if (!mod) throw new Error(`mmsa's native kernels are not usable: ${status.reason} (set MMSA_NATIVE=0 to test without them)`);
  return mod;
}
