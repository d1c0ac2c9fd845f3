/*
 * One core's FP32 FMA peak, measured: 12 independent chains of fused multiply-adds (AVX-512, then AVX2), GFLOP/s
 * per second of this process's CPU time, and the clock from a dependent integer-add chain (1 cycle per add).
 * bench/README.md ("ONNX Runtime against tfjs-wasm") compares ORT's GFLOP/s with it, beside the ~200 GFLOP/s
 * the issue (#17) took as one core's peak.
 *
 *   gcc -O3 -march=native bench/onnx-fma-peak.c -o /tmp/fma-peak && /tmp/fma-peak
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  const long n = 200000000;
  float v[16], sum = 0;
#ifdef __AVX512F__
  __m512 a[12], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
  double t0 = cpu_s();
  for (long i = 0; i < n; i++)
    for (int j = 0; j < 12; j++) a[j] = _mm512_fmadd_ps(a[j], m, c);
  double t = cpu_s() - t0;
  for (int i = 0; i < 12; i++) { _mm512_storeu_ps(v, a[i]); sum += v[0]; }
  printf("AVX-512 FMA: %.1f GFLOP/s per CPU-second\n", n * 12.0 * 16 * 2 / t / 1e9);
#endif
  __m256 b[12], m2 = _mm256_set1_ps(0.999999f), c2 = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) b[i] = _mm256_set1_ps((float)i);
  double t1 = cpu_s();
  for (long i = 0; i < n; i++)
    for (int j = 0; j < 12; j++) b[j] = _mm256_fmadd_ps(b[j], m2, c2);
  double t2 = cpu_s() - t1;
  for (int i = 0; i < 12; i++) { _mm256_storeu_ps(v, b[i]); sum += v[0]; }
  printf("AVX2 FMA: %.1f GFLOP/s per CPU-second\n", n * 12.0 * 8 * 2 / t2 / 1e9);
  long x = 0;
  double t3 = cpu_s();
  for (long i = 0; i < 2000000000L; i++) __asm__ volatile("add $1, %0" : "+r"(x));
  printf("clock (dependent integer adds): %.2f GHz (checksum %g)\n", 2.0 / (cpu_s() - t3), sum);
  return 0;
}
