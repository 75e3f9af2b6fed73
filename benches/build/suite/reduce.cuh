#pragma once
// cuda-build benchmarks, generated suite (copied from benches/build/suite/): row reductions and softmax on cub.
#include "common.cuh"
#include <cub/block/block_reduce.cuh>
#define RED_BLOCK 256
#define RED_SCALE 2.0f
struct SumR { template <typename A> __device__ static A init() { return A(0); } template <typename A> __device__ static A f(A a, A b) { return a + b; } };
struct MaxR { template <typename A> __device__ static A init() { return A(-1e30); } template <typename A> __device__ static A f(A a, A b) { return a > b ? a : b; } };
template <typename R> struct CubOp { template <typename A> __device__ A operator()(const A& a, const A& b) const { return R::template f<A>(a, b); } };
template <typename T, typename R>
__device__ void reduce_rows(const T* __restrict__ in, T* __restrict__ out, size_t cols) {
  using A = typename Acc<T>::type;
  using BR = cub::BlockReduce<A, RED_BLOCK>;
  __shared__ typename BR::TempStorage tmp;
  const T* row = in + blockIdx.x * cols;
  A acc = R::template init<A>();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) acc = R::template f<A>(acc, to_acc(row[c]));
  acc = BR(tmp).Reduce(acc, CubOp<R>());
  if (threadIdx.x == 0) out[blockIdx.x] = from_acc<T>(acc * A(RED_SCALE));
}
template <typename T>
__device__ void softmax_rows(const T* __restrict__ in, T* __restrict__ out, size_t cols) {
  using A = typename Acc<T>::type;
  using BR = cub::BlockReduce<A, RED_BLOCK>;
  __shared__ typename BR::TempStorage tmp;
  __shared__ A bm, bs;
  const T* row = in + blockIdx.x * cols;
  T* orow = out + blockIdx.x * cols;
  A m = MaxR::init<A>();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) m = MaxR::f<A>(m, to_acc(row[c]));
  m = BR(tmp).Reduce(m, CubOp<MaxR>());
  if (threadIdx.x == 0) bm = m;
  __syncthreads();
  A s = A(0);
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) s += exp(to_acc(row[c]) - bm);
  s = BR(tmp).Reduce(s, CubOp<SumR>());
  if (threadIdx.x == 0) bs = s;
  __syncthreads();
  for (size_t c = threadIdx.x; c < cols; c += RED_BLOCK) orow[c] = from_acc<T>(exp(to_acc(row[c]) - bm) / bs * A(RED_SCALE));
}
#define RED_KERNELS(T, NAME) \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_sum(const T* i, T* o, size_t c) { reduce_rows<T, SumR>(i, o, c); } \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_max(const T* i, T* o, size_t c) { reduce_rows<T, MaxR>(i, o, c); } \
  extern "C" __global__ void __launch_bounds__(RED_BLOCK) NAME##_softmax(const T* i, T* o, size_t c) { softmax_rows<T>(i, o, c); }
