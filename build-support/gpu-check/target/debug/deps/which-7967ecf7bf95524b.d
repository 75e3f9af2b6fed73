/work/main/build-support/gpu-check/target/debug/deps/which-7967ecf7bf95524b.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/checker.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/error.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/finder.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/helper.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/sys.rs

/work/main/build-support/gpu-check/target/debug/deps/libwhich-7967ecf7bf95524b.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/lib.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/checker.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/error.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/finder.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/helper.rs /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/sys.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/lib.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/checker.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/error.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/finder.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/helper.rs:
/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/which-8.0.6/src/sys.rs:
