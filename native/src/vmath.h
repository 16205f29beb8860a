/* Vectorisable float32 maths shared by the kernels: no libm calls, so the loops that use them vectorise. */
#ifndef MMSA_VMATH_H
#define MMSA_VMATH_H

/* exp for float32 without libm calls, so the loops below vectorise (AVX-512: 16 lanes). Cody-Waite reduction
   x = n ln2 + r, |r| <= ln2/2, then a degree-6 Taylor polynomial of e^r (max relative error ~2e-7, about 2 ulp),
   scaled by 2^n built in the exponent bits. Inputs are clamped to [-87.3, 88] so 2^n stays a normal number; n is
   rounded to nearest with the 1.5 * 2^23 trick, which vectorises where roundf does not. */
static inline float fast_expf(float x) {
  x = x < -87.3f ? -87.3f : x > 88.0f ? 88.0f : x;
  const float n = (x * 1.44269504f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693145752f) - n * 1.42860677e-6f;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  union {
    int i;
    float f;
  } scale;
  scale.i = ((int)n + 127) << 23;
  return p * scale.f;
}

#endif
