/work/main/build-support/gpu-check/target/debug/deps/cuda_build-6a61dad933d8280e.d: /work/main/src/lib.rs /work/main/src/arch.rs /work/main/src/cache.rs /work/main/src/check.rs /work/main/src/compat.rs /work/main/src/compile/mod.rs /work/main/src/compile/depfile.rs /work/main/src/compile/entries.rs /work/main/src/compile/group.rs /work/main/src/compile/job.rs /work/main/src/compile/launcher.rs /work/main/src/compile/module.rs /work/main/src/compile/plan.rs /work/main/src/compile/schedule.rs /work/main/src/compile/sources.rs /work/main/src/compile/stamp.rs /work/main/src/cuda.rs /work/main/src/driver.rs /work/main/src/emit.rs /work/main/src/env.rs /work/main/src/error.rs /work/main/src/fsx.rs /work/main/src/host.rs /work/main/src/json.rs /work/main/src/probe.rs /work/main/src/report.rs /work/main/src/run.rs /work/main/src/toolkit/mod.rs /work/main/src/toolkit/layout.rs /work/main/src/toolkit/locate.rs /work/main/src/toolkit/search.rs /work/main/src/torch.rs /work/main/src/version.rs

/work/main/build-support/gpu-check/target/debug/deps/libcuda_build-6a61dad933d8280e.rmeta: /work/main/src/lib.rs /work/main/src/arch.rs /work/main/src/cache.rs /work/main/src/check.rs /work/main/src/compat.rs /work/main/src/compile/mod.rs /work/main/src/compile/depfile.rs /work/main/src/compile/entries.rs /work/main/src/compile/group.rs /work/main/src/compile/job.rs /work/main/src/compile/launcher.rs /work/main/src/compile/module.rs /work/main/src/compile/plan.rs /work/main/src/compile/schedule.rs /work/main/src/compile/sources.rs /work/main/src/compile/stamp.rs /work/main/src/cuda.rs /work/main/src/driver.rs /work/main/src/emit.rs /work/main/src/env.rs /work/main/src/error.rs /work/main/src/fsx.rs /work/main/src/host.rs /work/main/src/json.rs /work/main/src/probe.rs /work/main/src/report.rs /work/main/src/run.rs /work/main/src/toolkit/mod.rs /work/main/src/toolkit/layout.rs /work/main/src/toolkit/locate.rs /work/main/src/toolkit/search.rs /work/main/src/torch.rs /work/main/src/version.rs

/work/main/src/lib.rs:
/work/main/src/arch.rs:
/work/main/src/cache.rs:
/work/main/src/check.rs:
/work/main/src/compat.rs:
/work/main/src/compile/mod.rs:
/work/main/src/compile/depfile.rs:
/work/main/src/compile/entries.rs:
/work/main/src/compile/group.rs:
/work/main/src/compile/job.rs:
/work/main/src/compile/launcher.rs:
/work/main/src/compile/module.rs:
/work/main/src/compile/plan.rs:
/work/main/src/compile/schedule.rs:
/work/main/src/compile/sources.rs:
/work/main/src/compile/stamp.rs:
/work/main/src/cuda.rs:
/work/main/src/driver.rs:
/work/main/src/emit.rs:
/work/main/src/env.rs:
/work/main/src/error.rs:
/work/main/src/fsx.rs:
/work/main/src/host.rs:
/work/main/src/json.rs:
/work/main/src/probe.rs:
/work/main/src/report.rs:
/work/main/src/run.rs:
/work/main/src/toolkit/mod.rs:
/work/main/src/toolkit/layout.rs:
/work/main/src/toolkit/locate.rs:
/work/main/src/toolkit/search.rs:
/work/main/src/torch.rs:
/work/main/src/version.rs:
