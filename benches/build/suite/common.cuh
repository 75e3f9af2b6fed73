#pragma once
// cuda-build benchmarks, generated suite (copied from benches/build/suite/): shared helpers.
#include <cuda_fp16.h>
#include <stdint.h>
template <typename T> struct Acc { using type = T; };
template <> struct Acc<__half> { using type = float; };
template <typename T> __device__ __forceinline__ typename Acc<T>::type to_acc(T v) { return static_cast<typename Acc<T>::type>(v); }
template <> __device__ __forceinline__ float to_acc<__half>(__half v) { return __half2float(v); }
template <typename T> __device__ __forceinline__ T from_acc(typename Acc<T>::type v) { return static_cast<T>(v); }
template <> __device__ __forceinline__ __half from_acc<__half>(float v) { return __float2half(v); }
template <typename T, int N> struct alignas(sizeof(T) * N) Vec { T v[N]; };
