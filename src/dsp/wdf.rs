//! A wave digital filter (WDF) compiled from a [`Network`] into flat arrays, so that one sample
//! costs a handful of multiply-adds per element and never allocates.
//!
//! Wave definitions (Fettweis 1986, "Wave digital filters: theory and practice", Proc. IEEE 74(2)):
//! at a port of resistance `R` with voltage `v` and current `i` flowing *into* the element,
//! `a = v + R·i` is the wave incident on the element and `b = v − R·i` the wave it reflects.
//! Reactive elements use the trapezoidal (bilinear) rule: a capacitor has `R = T/(2C)` and reflects
//! last sample's incident wave, an inductor has `R = 2L/T` and reflects its negation
//! (J. O. Smith, *Physical Audio Signal Processing*, "Wave Digital Elements").
//!
//! Series and parallel junctions are three-or-more-port adaptors whose upward port is adapted
//! (reflection-free), so the tree is explicit: an upward pass computes every reflected wave from the
//! states, the root (whatever drives the network) answers with its incident wave, and a
//! downward pass scatters it back to the leaves. Derivation, with `ρ_k = R_k/R_p`:
//! - series (same current, voltages add): `b_p = Σ b_k`, `a_k = b_k + ρ_k·(a_p − b_p)`;
//! - parallel (same voltage, currents add): `b_p = Σ (G_k/G_p)·b_k`, `a_k = a_p + b_p − b_k`.

use super::network::{Network, NetworkError};

/// Where a leaf came from, so its value can be changed later (source network elements).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaf {
    R,
    L,
    C,
}

/// A compiled WDF tree. All per-sample arrays are sized at build time.
#[derive(Debug, Clone)]
pub struct Wdf {
    /// Port resistance of every node (ohms), post-order; the last node is the root adaptor.
    r: Vec<f64>,
    /// Parent index of every node; the root points one past the end.
    parent: Vec<usize>,
    /// Weight of a node's reflected wave in its parent's reflected wave (1 or G_k/G_p).
    up_w: Vec<f64>,
    /// Down-pass coefficients: `a_k = alpha·a_p + beta·b_p + gamma·b_k`.
    alpha: Vec<f64>,
    beta: Vec<f64>,
    gamma: Vec<f64>,
    /// Leaf state update `state = sigma·a` (+1 capacitor, −1 inductor, 0 resistor and adaptors).
    sigma: Vec<f64>,
    state: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    /// Kind and value (SI) of each leaf; `None` for adaptors.
    leaf: Vec<Option<(Leaf, f64)>>,
    /// Children of each node (build-time only, used to recompute coefficients).
    children: Vec<Vec<usize>>,
    is_series: Vec<bool>,
    /// Up-pass program: adaptors in post-order with their non-resistive children (CSR ranges into
    /// `kids`). Resistors reflect nothing (`b = 0`), so they cost nothing per sample.
    up_ops: Vec<(u32, u32, u32)>,
    kids: Vec<u32>,
    /// Reactive leaves (their reflected wave is last sample's state).
    reactive: Vec<u32>,
    /// Down-pass program: (node, parent) for every non-root adaptor, reactive leaf and probe, in
    /// pre-order so a parent's incident wave is ready before its children need it.
    down_ops: Vec<(u32, u32)>,
    /// Bilinear constant `K = 2·fs` in `s = K·(1 − z⁻¹)/(1 + z⁻¹)`, 1/s: the plain transform,
    /// so that analog quantities (poles) can be recovered exactly from the filter.
    k_bilinear: f64,
}

impl Wdf {
    /// Compiles `net` at sample rate `fs_hz` with the plain bilinear transform
    /// `s = 2·fs·(z − 1)/(z + 1)`. Returns the tree and, for each top-level child of `net` (when it
    /// is a `Series`), the node index of that child, so callers can probe voltages.
    pub fn build(net: &Network, fs_hz: f64) -> Result<(Self, Vec<usize>), NetworkError> {
        let k_bilinear = 2.0 * fs_hz;
        net.validate()?;
        let mut w = Wdf {
            r: vec![],
            parent: vec![],
            up_w: vec![],
            alpha: vec![],
            beta: vec![],
            gamma: vec![],
            sigma: vec![],
            state: vec![],
            a: vec![],
            b: vec![],
            leaf: vec![],
            children: vec![],
            is_series: vec![],
            up_ops: vec![],
            kids: vec![],
            reactive: vec![],
            down_ops: vec![],
            k_bilinear,
        };
        let mut top = vec![];
        // Wrap so the root is always an adaptor (a lone element becomes a one-child series).
        let root_net = match net {
            Network::Series(_) | Network::Parallel(_) => net.clone(),
            other => Network::Series(vec![other.clone()]),
        };
        let root = w.add(&root_net, Some(&mut top));
        let n = w.r.len();
        w.parent[root] = n;
        w.recompute_all();
        w.compile_program(&top);
        Ok((w, top))
    }

    /// Builds the per-sample programs (see the field docs). `probes` are nodes whose voltage the
    /// caller reads, so they get incident waves even when they are resistors.
    fn compile_program(&mut self, probes: &[usize]) {
        let n = self.r.len();
        for k in 0..n {
            match self.leaf[k] {
                Some((Leaf::R, _)) => {}
                Some(_) => self.reactive.push(k as u32),
                None => {
                    let start = self.kids.len() as u32;
                    for &c in &self.children[k] {
                        if !matches!(self.leaf[c], Some((Leaf::R, _))) {
                            self.kids.push(c as u32);
                        }
                    }
                    self.up_ops.push((k as u32, start, self.kids.len() as u32));
                }
            }
        }
        // Pre-order = reverse post-order.
        for k in (0..n - 1).rev() {
            let needed = !matches!(self.leaf[k], Some((Leaf::R, _))) || probes.contains(&k);
            if needed {
                self.down_ops.push((k as u32, self.parent[k] as u32));
            }
        }
    }

    fn add(&mut self, net: &Network, top: Option<&mut Vec<usize>>) -> usize {
        let kids: Vec<usize> = match net {
            Network::Series(v) | Network::Parallel(v) => {
                let mut ids = Vec::with_capacity(v.len());
                let mut top = top;
                for c in v {
                    let id = self.add(c, None);
                    if let Some(t) = top.as_deref_mut() {
                        t.push(id);
                    }
                    ids.push(id);
                }
                ids
            }
            _ => vec![],
        };
        let id = self.r.len();
        let leaf = match net {
            Network::R(v) => Some((Leaf::R, *v)),
            Network::L(v) => Some((Leaf::L, *v)),
            Network::C(v) => Some((Leaf::C, *v)),
            _ => None,
        };
        self.r.push(0.0);
        self.parent.push(usize::MAX);
        self.up_w.push(0.0);
        self.alpha.push(0.0);
        self.beta.push(0.0);
        self.gamma.push(0.0);
        self.sigma.push(match leaf {
            Some((Leaf::C, _)) => 1.0,
            Some((Leaf::L, _)) => -1.0,
            _ => 0.0,
        });
        self.state.push(0.0);
        self.a.push(0.0);
        self.b.push(0.0);
        self.leaf.push(leaf);
        self.is_series.push(matches!(net, Network::Series(_)));
        for &k in &kids {
            self.parent[k] = id;
        }
        self.children.push(kids);
        id
    }

    fn leaf_resistance(&self, kind: Leaf, v: f64) -> f64 {
        let kb = self.k_bilinear;
        match kind {
            Leaf::R => v,
            Leaf::L => kb * v,
            Leaf::C => 1.0 / (kb * v),
        }
    }

    /// Recomputes every port resistance and coefficient bottom-up (post-order).
    fn recompute_all(&mut self) {
        for k in 0..self.r.len() {
            self.recompute_node(k);
        }
    }

    /// Recomputes node `k`'s port resistance and its children's coefficients.
    fn recompute_node(&mut self, k: usize) {
        if let Some((kind, v)) = self.leaf[k] {
            self.r[k] = self.leaf_resistance(kind, v);
            return;
        }
        let series = self.is_series[k];
        let rp = if series {
            self.children[k].iter().map(|&c| self.r[c]).sum::<f64>()
        } else {
            1.0 / self.children[k].iter().map(|&c| 1.0 / self.r[c]).sum::<f64>()
        };
        self.r[k] = rp;
        for i in 0..self.children[k].len() {
            let c = self.children[k][i];
            if series {
                let rho = self.r[c] / rp;
                self.up_w[c] = 1.0;
                self.alpha[c] = rho;
                self.beta[c] = -rho;
                self.gamma[c] = 1.0;
            } else {
                self.up_w[c] = rp / self.r[c];
                self.alpha[c] = 1.0;
                self.beta[c] = 1.0;
                self.gamma[c] = -1.0;
            }
        }
    }

    /// Index of the root adaptor.
    #[inline]
    pub fn root(&self) -> usize {
        self.r.len() - 1
    }

    /// Port resistance seen by the root element, ohms.
    #[inline]
    pub fn port_resistance(&self) -> f64 {
        self.r[self.root()]
    }

    /// Upward pass: returns the wave the network reflects towards the root element. With the
    /// incident wave `a` the root will send, the port voltage is `(a + b)/2`; equivalently the
    /// network is a Thévenin source `v = b + R_p·i` for a current `i` flowing into it.
    #[inline]
    pub fn reflected(&mut self) -> f64 {
        for &k in &self.reactive {
            let k = k as usize;
            self.b[k] = self.state[k];
        }
        for &(k, s, e) in &self.up_ops {
            let mut acc = 0.0;
            for &c in &self.kids[s as usize..e as usize] {
                let c = c as usize;
                acc += self.up_w[c] * self.b[c];
            }
            self.b[k as usize] = acc;
        }
        self.b[self.r.len() - 1]
    }

    /// Downward pass with the root's incident wave `a_root`; updates every state.
    #[inline]
    pub fn incident(&mut self, a_root: f64) {
        let n = self.r.len();
        self.a[n - 1] = a_root;
        for &(k, p) in &self.down_ops {
            let (k, p) = (k as usize, p as usize);
            let ak = self.alpha[k] * self.a[p] + self.beta[k] * self.b[p] + self.gamma[k] * self.b[k];
            self.a[k] = ak;
            self.state[k] = self.sigma[k] * ak;
        }
    }

    /// Voltage across node `k` after the last `incident` call, volts.
    #[inline]
    pub fn voltage(&self, k: usize) -> f64 {
        0.5 * (self.a[k] + self.b[k])
    }

    /// Current into node `k` after the last `incident` call, amperes (0 for a zero-resistance port).
    #[inline]
    pub fn current(&self, k: usize) -> f64 {
        if self.r[k] > 0.0 {
            (self.a[k] - self.b[k]) / (2.0 * self.r[k])
        } else {
            0.0
        }
    }

    /// Number of reactive leaves (the state dimension).
    pub fn reactive_count(&self) -> usize {
        self.reactive.len()
    }

    /// Sets the state of every reactive leaf from `f(index)` (index into the reactive list).
    pub fn set_reactive_states(&mut self, f: impl Fn(usize) -> f64) {
        for (i, &k) in self.reactive.iter().enumerate() {
            self.state[k as usize] = f(i);
        }
    }

    /// State of reactive leaf `i` (index into the reactive list).
    pub fn reactive_state(&self, i: usize) -> f64 {
        self.state[self.reactive[i] as usize]
    }

    /// Clears all states (silence).
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|s| *s = 0.0);
        self.a.iter_mut().for_each(|s| *s = 0.0);
        self.b.iter_mut().for_each(|s| *s = 0.0);
    }

    /// Number of nodes (leaves and adaptors).
    pub fn len(&self) -> usize {
        self.r.len()
    }

    /// True when the tree has no nodes (never, once built).
    pub fn is_empty(&self) -> bool {
        self.r.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::super::network::build::*;
    use super::*;

    /// Drives `net` from an ideal voltage source (the root sets v = e) and returns the current.
    fn drive(w: &mut Wdf, e: f64) -> f64 {
        let b = w.reflected();
        // Ideal voltage source: v = (a+b)/2 = e  =>  a = 2e − b.
        let a = 2.0 * e - b;
        w.incident(a);
        (a - b) / (2.0 * w.port_resistance())
    }

    #[test]
    fn resistive_divider_is_exact() {
        let (mut w, top) = Wdf::build(&series(vec![r(75.0), r(32.0)]), 48_000.0).unwrap();
        let i = drive(&mut w, 1.0);
        assert!((i - 1.0 / 107.0).abs() < 1e-15);
        assert!((w.voltage(top[1]) - 32.0 / 107.0).abs() < 1e-15);
    }

    #[test]
    fn rc_lowpass_corner_is_minus_3db() {
        // R = 1 kΩ, C = 159.15 nF: fc = 1 kHz. Drive a 1 kHz sine, measure the capacitor voltage.
        let fs = 192_000.0;
        let cc = 1.0 / (2.0 * std::f64::consts::PI * 1000.0 * 1000.0);
        let (mut w, top) = Wdf::build(&series(vec![r(1000.0), c(cc)]), fs).unwrap();
        let mut peak: f64 = 0.0;
        for n in 0..(fs as usize) {
            let e = (2.0 * std::f64::consts::PI * 1000.0 * n as f64 / fs).sin();
            drive(&mut w, e);
            if n > fs as usize / 2 {
                peak = peak.max(w.voltage(top[1]).abs());
            }
        }
        let db = 20.0 * peak.log10();
        assert!((db + 3.0103).abs() < 0.01, "{db}");
    }
}
