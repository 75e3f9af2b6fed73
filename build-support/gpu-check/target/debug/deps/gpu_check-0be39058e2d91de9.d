/work/main/build-support/gpu-check/target/debug/deps/gpu_check-0be39058e2d91de9.d: src/main.rs src/driver.rs src/manifest.rs src/run.rs

/work/main/build-support/gpu-check/target/debug/deps/libgpu_check-0be39058e2d91de9.rmeta: src/main.rs src/driver.rs src/manifest.rs src/run.rs

src/main.rs:
src/driver.rs:
src/manifest.rs:
src/run.rs:
