//! Table 8: on a GPU. This harness has none, so the table says so and the goal is "not measured".

use crate::harness::Bench;
use crate::report::Goal;

impl Bench {
    pub fn gpu(&mut self) {
        self.sections.push(
            "## 8. On a GPU: vector-add bandwidth against cudaMemcpy\n\n\
             | measurement | result |\n|---|---|\n\
             | vector-add bandwidth / cudaMemcpy device-to-device | not run: no CUDA device on this machine |\n\
             | launch of every example kernel, results checked | not run: no CUDA device on this machine |\n\n\
             Measuring it needs a machine with a GPU (the project's lent `device` machine); this harness \
             has no GPU code path and writes this table as not run. For scale only: the project's notes \
             record one hand measurement on an H200 (a float4 grid-stride vector add at 0.98x \
             cudaMemcpy device-to-device, scalar loads 0.87x).\n"
                .into(),
        );
        self.goals.push(Goal {
            name: "GPU: vector-add bandwidth >= 0.95x cudaMemcpy".into(),
            value: "not run: no CUDA device on this machine".into(),
            met: None,
        });
    }
}
