#pragma once
// cuda-build benchmarks, generated suite (copied from benches/build/suite/): vectorised elementwise kernels.
#include "common.cuh"
#define EW_VEC 4
struct AddOp { template <typename A> __device__ A operator()(A a, A b) const { return a + b; } };
struct MulOp { template <typename A> __device__ A operator()(A a, A b) const { return a * b; } };
struct AxpyOp { template <typename A> __device__ A operator()(A a, A b) const { return A(2) * a + b; } };
struct MaxOp { template <typename A> __device__ A operator()(A a, A b) const { return a > b ? a : b; } };
template <typename T, typename Op>
__device__ void ew_binary(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, size_t n) {
  using V = Vec<T, EW_VEC>;
  Op op;
  size_t nv = n / EW_VEC;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < nv; i += (size_t)gridDim.x * blockDim.x) {
    V va = reinterpret_cast<const V*>(a)[i], vb = reinterpret_cast<const V*>(b)[i], vo;
#pragma unroll
    for (int k = 0; k < EW_VEC; ++k) vo.v[k] = from_acc<T>(op(to_acc(va.v[k]), to_acc(vb.v[k])));
    reinterpret_cast<V*>(out)[i] = vo;
  }
  for (size_t i = nv * EW_VEC + blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    out[i] = from_acc<T>(op(to_acc(a[i]), to_acc(b[i])));
}
template <typename T, typename Op>
__device__ void ew_strided(const T* a, const T* b, T* out, const size_t* dims, const size_t* sa, const size_t* sb, int rank, size_t n) {
  Op op;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    size_t r = i, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) { size_t c = r % dims[d]; r /= dims[d]; ia += c * sa[d]; ib += c * sb[d]; }
    out[i] = from_acc<T>(op(to_acc(a[ia]), to_acc(b[ib])));
  }
}
#define EW_KERNELS(T, OP, NAME) \
  extern "C" __global__ void NAME##_contig(const T* a, const T* b, T* o, size_t n) { ew_binary<T, OP>(a, b, o, n); } \
  extern "C" __global__ void NAME##_strided(const T* a, const T* b, T* o, const size_t* d, const size_t* sa, const size_t* sb, int r, size_t n) { ew_strided<T, OP>(a, b, o, d, sa, sb, r, n); }
