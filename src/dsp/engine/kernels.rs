//! Which inner loop runs a pass of the circuit: the port form, the load's modes in registers or in
//! place, one channel or a stereo pair side by side, with or without the loop currents for the
//! meters. Every route ends in `lane.rs` (portable), `lane_avx2.rs` or `lane_asm.rs`, all held to
//! the reference by `tests/kernels.rs`.
//!
//! Threading: audio thread; nothing here allocates.

use super::Engine;
use crate::dsp::lane::{solve_ground, Lane, Solver};
#[cfg(target_arch = "x86_64")]
use crate::dsp::lane_avx2::{self, Regs};
use crate::dsp::modal::{ModalOps, PortForm};
use crate::dsp::simd::Fma;

impl Engine {
    /// The element solve for the present (fixed) parameters.
    #[inline(always)]
    fn solver(&self) -> Solver<'_> {
        Solver {
            linear: self.linear,
            inv_r_tot: self.inv_r_tot,
            table: self.table.view(),
            element: self.element,
            r_tot_ohm: self.r_tot_ohm,
            w_prev: self.w_prev,
            w_prev2: self.w_prev2,
            iterations: 0,
        }
    }

    /// Takes back a solver's warm starts and iteration count.
    #[inline(always)]
    fn keep_solver(&mut self, s: (f64, f64, u64)) {
        (self.w_prev, self.w_prev2) = (s.0, s.1);
        self.iterations += s.2;
    }

    /// This engine's circuit as a [`Lane`] over the modes `m` (taken out of the load).
    #[inline(always)]
    fn lane<F: Fma, M: ModalOps, const Y: bool>(&self, m: M) -> Lane<M, Y> {
        let zd = self.load.z_direct_ohm;
        let src = self.src;
        let g = m.gain();
        // The next drive's weight of this step's current: the companions' `2·(R_C − R_L)` plus the
        // load's (`g`, or `−g·z²` for the admittance form, see `Lane::step`).
        let g_load = if Y { -g * zd * zd } else { g };
        Lane { m, src, zd, gamma: F::fma(2.0, src.r_c_ohm - src.r_l_ohm, g_load) }
    }

    /// Runs the circuit over an oversampled buffer in place (open-circuit voltages in, load
    /// voltages out; with `cur`, the loop currents there). Parameters are fixed for the call.
    #[inline(always)]
    pub(super) fn steps<F: Fma>(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>) {
        self.rails_block::<F>(buf);
        self.circuit::<F>(buf, cur);
    }

    /// [`Self::steps`] after the rails: amplifier voltages in, load voltages out.
    #[inline(always)]
    fn circuit<F: Fma>(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>) {
        if buf.is_empty() {
            return;
        }
        // Alone, a shared ground is in the loop resistance (`Engine::set_paired`); a pair's left
        // engine solves it in `steps_pair`.
        match self.load.modal.form() {
            PortForm::Impedance => self.steps_form::<F, false>(buf, cur),
            PortForm::Admittance => self.steps_form::<F, true>(buf, cur),
        }
    }

    /// [`Self::circuit`], read into the metering when it is on (`cur`: room for the currents).
    #[inline(always)]
    pub(super) fn circuit_metered<F: Fma>(&mut self, buf: &mut [f64], cur: &mut [f64]) {
        if self.meter.on {
            let cur = &mut cur[..buf.len()];
            self.circuit::<F>(buf, Some(&mut *cur));
            self.observe(buf, cur);
        } else {
            self.circuit::<F>(buf, None);
        }
    }

    /// [`Self::steps`] for one port form: the modes copied into registers when there are at most
    /// eight (every library load), else run in place. With AVX2 and at most four modes, the
    /// two-lane kernel runs it with a shadow copy in its second lane, so a channel's output is the
    /// same bits alone as beside another in [`Self::steps_pair`].
    #[inline(always)]
    fn steps_form<F: Fma, const Y: bool>(&mut self, buf: &mut [f64], cur: Option<&mut [f64]>) {
        if let Some(mut r) = self.load.modal.regs::<1>() {
            #[cfg(target_arch = "x86_64")]
            if F::HW {
                self.solo_kernel::<F, Y>(&mut r, buf, out_ptr(cur, buf.len()));
                self.load.modal.store(&r);
                return;
            }
            self.steps_with::<F, _, Y>(&mut r, buf, cur);
            self.load.modal.store(&r);
        } else if let Some(mut r) = self.load.modal.regs::<2>() {
            self.steps_with::<F, _, Y>(&mut r, buf, cur);
            self.load.modal.store(&r);
        } else {
            // Taken out and put back (no allocation: an empty `Vec` is left behind meanwhile).
            let mut m = self.load.modal.take_modes();
            self.steps_with::<F, _, Y>(&mut m, buf, cur);
            self.load.modal.put_modes(m);
        }
    }

    #[inline(always)]
    fn steps_with<F: Fma, M: ModalOps, const Y: bool>(&mut self, m: M, buf: &mut [f64], cur: Option<&mut [f64]>) {
        let mut lane = self.lane::<F, M, Y>(m);
        let mut solver = self.solver();
        lane.run::<F>(&mut solver, buf, cur);
        let s = solver.finish();
        self.src = lane.src;
        self.keep_solver(s);
    }

    /// Both engines' circuits over their oversampled buffers, after the rails (amplifier voltages
    /// in, load voltages out): side by side in the two-lane kernel when it applies (AVX2, at most
    /// four modes each, the same port form), else one after the other. Each channel's arithmetic
    /// is exactly [`Self::circuit`]'s either way.
    #[inline(always)]
    pub(super) fn steps_pair<F: Fma>(a: &mut Engine, b: &mut Engine, ba: &mut [f64], bb: &mut [f64], cur: Option<(&mut [f64], &mut [f64])>) {
        if a.ground.r_ohm > 0.0 && ba.len() == bb.len() {
            return Self::pair_grounded::<F>(a, b, ba, bb, cur);
        }
        #[cfg(target_arch = "x86_64")]
        if F::HW && a.load.modal.form() == b.load.modal.form() && ba.len() == bb.len() && !ba.is_empty() {
            if let (Some(mut ra), Some(mut rb)) = (a.load.modal.regs::<1>(), b.load.modal.regs::<1>()) {
                let (ca, cb) = match cur {
                    Some((ca, cb)) => (out_ptr(Some(ca), ba.len()), out_ptr(Some(cb), bb.len())),
                    None => (std::ptr::null_mut(), std::ptr::null_mut()),
                };
                match a.load.modal.form() {
                    PortForm::Impedance => Self::pair_kernel::<F, false>(a, b, &mut ra, &mut rb, ba, bb, [ca, cb], false),
                    PortForm::Admittance => Self::pair_kernel::<F, true>(a, b, &mut ra, &mut rb, ba, bb, [ca, cb], false),
                };
                a.load.modal.store(&ra);
                b.load.modal.store(&rb);
                return;
            }
        }
        let (ca, cb) = cur.map_or((None, None), |(ca, cb)| (Some(ca), Some(cb)));
        a.circuit::<F>(ba, ca);
        b.circuit::<F>(bb, cb);
    }

    /// [`Self::steps_pair`], read into each engine's metering that is on (`ca`, `cb`: room for
    /// the currents).
    #[inline(always)]
    pub(super) fn pair_metered<F: Fma>(a: &mut Engine, b: &mut Engine, ba: &mut [f64], bb: &mut [f64], ca: &mut [f64], cb: &mut [f64]) {
        if !(a.meter.on || b.meter.on) {
            return Self::steps_pair::<F>(a, b, ba, bb, None);
        }
        let (ca, cb) = (&mut ca[..ba.len()], &mut cb[..bb.len()]);
        Self::steps_pair::<F>(a, b, ba, bb, Some((&mut *ca, &mut *cb)));
        if a.meter.on {
            a.observe(ba, ca);
        }
        if b.meter.on {
            b.observe(bb, cb);
        }
    }

    /// Both engines' circuits in the two-lane kernel (`lane_avx2::stereo`), through the left
    /// engine's shared ground when `grounded`. False, with nothing done, where the grounded kernel
    /// does not apply (the lanes solve their elements differently, or by the exact solver).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn pair_kernel<F: Fma, const Y: bool>(
        a: &mut Engine,
        b: &mut Engine,
        ra: &mut Regs,
        rb: &mut Regs,
        ba: &mut [f64],
        bb: &mut [f64],
        [ca, cb]: [*mut f64; 2],
        grounded: bool,
    ) -> bool {
        let (mut la, mut lb) = (a.lane::<F, _, Y>(ra), b.lane::<F, _, Y>(rb));
        let (mut sa, mut sb) = (a.solver(), b.solver());
        if a.table.same_as(&b.table) {
            // One copy of the (identical) table for both lanes: the same results from half the
            // cache lines.
            sb.table = sa.table;
        }
        let mut g = a.ground;
        // SAFETY: only reached with `F::HW`, inside the AVX2+FMA entry points (`hw_fma`); `ca` and
        // `cb` are both null or as long as `ba` and `bb` (`out_ptr`).
        if !unsafe { lane_avx2::stereo::<Y>(&mut la, &mut lb, &mut sa, &mut sb, ba, bb, [ca, cb], grounded.then_some(&mut g)) } {
            return false;
        }
        let (fa, fb) = (sa.finish(), sb.finish());
        (a.src, b.src) = (la.src, lb.src);
        a.keep_solver(fa);
        b.keep_solver(fb);
        a.ground = g;
        true
    }

    /// One channel in the two-lane kernel with a shadow copy (`lane_avx2::solo`).
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    fn solo_kernel<F: Fma, const Y: bool>(&mut self, r: &mut Regs, buf: &mut [f64], cur: *mut f64) {
        let mut la = self.lane::<F, _, Y>(r);
        let mut sa = self.solver();
        // SAFETY: only reached with `F::HW`, inside the AVX2+FMA entry points (`hw_fma`); `cur`
        // is null or as long as `buf` (`out_ptr`).
        unsafe { lane_avx2::solo::<Y>(&mut la, &mut sa, buf, cur) };
        let s = sa.finish();
        self.src = la.src;
        self.keep_solver(s);
    }
}

impl Engine {
    /// A stereo pair whose earpieces return through a shared ground (`stereo.rs`): both loops
    /// step together, each step's currents from `lane::solve_ground`. Portable code, the modes in
    /// registers when each load has at most four (every library load), else in place; the left
    /// engine's ground resistance and warm start serve the pair. Inlined into the AVX2+FMA entry
    /// points like every kernel route.
    #[inline(always)]
    fn pair_grounded<F: Fma>(a: &mut Engine, b: &mut Engine, ba: &mut [f64], bb: &mut [f64], mut cur: Option<(&mut [f64], &mut [f64])>) {
        if let (Some(mut ra), Some(mut rb)) = (a.load.modal.regs::<1>(), b.load.modal.regs::<1>()) {
            #[cfg(target_arch = "x86_64")]
            if F::HW && a.load.modal.form() == b.load.modal.form() && !ba.is_empty() {
                let c = match cur.as_mut() {
                    Some((ca, cb)) => [out_ptr(Some(&mut **ca), ba.len()), out_ptr(Some(&mut **cb), bb.len())],
                    None => [std::ptr::null_mut(); 2],
                };
                let ran = match a.load.modal.form() {
                    PortForm::Impedance => Self::pair_kernel::<F, false>(a, b, &mut ra, &mut rb, ba, bb, c, true),
                    PortForm::Admittance => Self::pair_kernel::<F, true>(a, b, &mut ra, &mut rb, ba, bb, c, true),
                };
                if ran {
                    a.load.modal.store(&ra);
                    b.load.modal.store(&rb);
                    return;
                }
            }
            Self::pair_grounded_forms::<F, _, _>(a, b, &mut ra, &mut rb, ba, bb, cur);
            a.load.modal.store(&ra);
            b.load.modal.store(&rb);
        } else {
            let (mut ma, mut mb) = (a.load.modal.take_modes(), b.load.modal.take_modes());
            Self::pair_grounded_forms::<F, _, _>(a, b, &mut ma, &mut mb, ba, bb, cur);
            a.load.modal.put_modes(ma);
            b.load.modal.put_modes(mb);
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pair_grounded_forms<F: Fma, MA: ModalOps, MB: ModalOps>(a: &mut Engine, b: &mut Engine, ma: MA, mb: MB, ba: &mut [f64], bb: &mut [f64], cur: Option<(&mut [f64], &mut [f64])>) {
        match (a.load.modal.form(), b.load.modal.form()) {
            (PortForm::Impedance, PortForm::Impedance) => Self::pair_grounded_in::<F, _, _, false, false>(a, b, ma, mb, ba, bb, cur),
            (PortForm::Impedance, PortForm::Admittance) => Self::pair_grounded_in::<F, _, _, false, true>(a, b, ma, mb, ba, bb, cur),
            (PortForm::Admittance, PortForm::Impedance) => Self::pair_grounded_in::<F, _, _, true, false>(a, b, ma, mb, ba, bb, cur),
            (PortForm::Admittance, PortForm::Admittance) => Self::pair_grounded_in::<F, _, _, true, true>(a, b, ma, mb, ba, bb, cur),
        }
    }

    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn pair_grounded_in<F: Fma, MA: ModalOps, MB: ModalOps, const YA: bool, const YB: bool>(
        a: &mut Engine,
        b: &mut Engine,
        ma: MA,
        mb: MB,
        ba: &mut [f64],
        bb: &mut [f64],
        mut cur: Option<(&mut [f64], &mut [f64])>,
    ) {
        let n = ba.len();
        if n == 0 {
            return;
        }
        let mut g = a.ground;
        let (fa, fb, src_a, src_b) = {
            let (mut la, mut lb) = (a.lane::<F, _, YA>(ma), b.lane::<F, _, YB>(mb));
            let (mut sa, mut sb) = (a.solver(), b.solver());
            let (mut ua, mut ub) = (la.drive::<F>(ba[0]), lb.drive::<F>(bb[0]));
            for k in 0..n {
                let (ia, ib, vg) = solve_ground::<F>(&mut sa, &mut sb, ua, ub, g.r_ohm, g.v_v[0]);
                g.push(vg);
                let (na, nb) = if k + 1 < n { (ba[k + 1], bb[k + 1]) } else { (0.0, 0.0) };
                let (va, una) = la.step::<F>(ia, na);
                let (vb, unb) = lb.step::<F>(ib, nb);
                (ba[k], bb[k], ua, ub) = (va, vb, una, unb);
                if let Some((ca, cb)) = cur.as_mut() {
                    ca[k] = ia;
                    cb[k] = ib;
                }
            }
            (sa.finish(), sb.finish(), la.src, lb.src)
        };
        (a.src, b.src) = (src_a, src_b);
        a.keep_solver(fa);
        b.keep_solver(fb);
        a.ground = g;
    }
}

/// A current output for the vector kernels: the slice's start, checked to hold `n` values, or null.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn out_ptr(cur: Option<&mut [f64]>, n: usize) -> *mut f64 {
    cur.map_or(std::ptr::null_mut(), |c| c[..n].as_mut_ptr())
}
