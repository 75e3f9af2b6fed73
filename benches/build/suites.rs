//! The kernel suites: the generated one (templated elementwise and reduction kernels on the
//! headers in suite/), and each tool's own copy of a suite's sources.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use crate::harness::consumers::Tool;
use crate::harness::Bench;

const COMMON_CUH: &str = include_str!("suite/common.cuh");
const ELEMENTWISE_CUH: &str = include_str!("suite/elementwise.cuh");
const REDUCE_CUH: &str = include_str!("suite/reduce.cuh");

/// `n` kernels: even ones elementwise (12-24 instantiations), odd ones reductions on cub
/// (2-6 instantiations of 3 kernels), so files take different times, as real suites do.
pub fn gen_suite(dir: &Path, n: usize) {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("common.cuh"), COMMON_CUH).unwrap();
    fs::write(dir.join("elementwise.cuh"), ELEMENTWISE_CUH).unwrap();
    fs::write(dir.join("reduce.cuh"), REDUCE_CUH).unwrap();
    let ew_types = [
        ("float", "f32"),
        ("double", "f64"),
        ("__half", "f16"),
        ("int", "i32"),
        ("long long", "i64"),
        ("unsigned", "u32"),
    ];
    let ops = [("AddOp", "add"), ("MulOp", "mul"), ("AxpyOp", "axpy"), ("MaxOp", "max")];
    let red_types = [("float", "f32"), ("double", "f64"), ("__half", "f16")];
    for i in 0..n {
        let mut s = String::new();
        let name = if i % 2 == 0 {
            s.push_str("#include \"elementwise.cuh\"\n");
            for j in 0..[12, 16, 20, 24][(i / 2) % 4] {
                let (t, tn) = ew_types[(i + j) % ew_types.len()];
                let (o, on) = ops[(i / 2 + j) % ops.len()];
                let _ = writeln!(s, "EW_KERNELS({t}, {o}, {on}_{tn}_{i}_{j})");
            }
            format!("k{i:03}_ew.cu")
        } else {
            s.push_str("#include \"reduce.cuh\"\n");
            for j in 0..[2, 3, 4, 6][(i / 2) % 4] {
                let (t, tn) = red_types[(i + j) % red_types.len()];
                let _ = writeln!(s, "RED_KERNELS({t}, red_{tn}_{i}_{j})");
            }
            format!("k{i:03}_red.cu")
        };
        fs::write(dir.join(name), s).unwrap();
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    let _ = fs::remove_dir_all(to);
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let name = e.file_name();
        let s = name.to_string_lossy();
        if s.ends_with(".cu") || s.ends_with(".cuh") {
            fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

pub fn set_red_scale(dir: &Path, value: &str) {
    let p = dir.join("reduce.cuh");
    let text = fs::read_to_string(&p).unwrap();
    let line = text.lines().find(|l| l.starts_with("#define RED_SCALE")).unwrap().to_owned();
    fs::write(&p, text.replace(&line, &format!("#define RED_SCALE {value}"))).unwrap();
}

/// Extra variables for one run.
pub type Vars<'a> = [(&'a str, String)];

pub struct Suite {
    pub name: String,
    /// Per tool: its own copy of the sources.
    pub dirs: BTreeMap<&'static str, PathBuf>,
    pub fake_root: PathBuf,
    pub mode: &'static str,
}

impl Bench {
    pub fn suite(&self, name: &str, src: &Path, fake_root: PathBuf, mode: &'static str, tools: &[Tool]) -> Suite {
        let mut dirs = BTreeMap::new();
        for t in tools {
            let d = self.work.join("suites").join(format!("{name}-{}", t.short()));
            if !dirs.contains_key(t.short()) {
                copy_dir(src, &d);
                dirs.insert(t.short(), d);
            }
        }
        Suite { name: name.into(), dirs, fake_root, mode }
    }
}
