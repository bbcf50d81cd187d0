//! The smoothed copies of every continuous stage parameter, matched to their targets by name:
//! targets and smoothers are the same struct ([`PerParam`]) of `f64` and of [`Smoother`], so a
//! parameter added to one is added to the other, and they are paired field by field.
//!
//! Threading: audio thread; nothing here allocates.

use crate::dsp::smoother::Smoother;
use crate::dsp::stage::StageParams;

/// Stand-ins for "absent" while a parameter smooths towards or away from absence; once settled
/// there, the engine removes the element exactly.
pub(super) const NONE_V_MAX_V: f64 = 1.0e4;
pub(super) const NONE_I_MAX_A: f64 = 1.0e4;
pub(super) const NONE_C_BLOCK_F: f64 = 100.0;
/// Offset for smoothing the output resistance in the log domain through 0 Ω, ohms.
pub(super) const R_LOG_OFFSET_OHM: f64 = 0.01;

/// One value per continuous stage parameter.
#[derive(Debug, Clone, Copy)]
pub(super) struct PerParam<T> {
    pub(super) level_v: T,
    pub(super) v_max_v: T,
    pub(super) i_max_a: T,
    pub(super) bias: T,
    pub(super) xo_v: T,
    pub(super) r_mod_ohm: T,
    /// `R_out + R_LOG_OFFSET_OHM`, smoothed in the log domain through 0 Ω.
    pub(super) r_out_plus_offset_ohm: T,
    pub(super) l_out_h: T,
    pub(super) c_block_f: T,
    /// Noise floor, volts RMS in 20 Hz–20 kHz (0: none).
    pub(super) noise_v: T,
    /// The shared ground return, ohms.
    pub(super) r_ground_ohm: T,
}

impl<T> PerParam<T> {
    /// Calls `f` on each field of `self` with the same-named field of `other`.
    fn zip_with<U>(&mut self, other: &PerParam<U>, mut f: impl FnMut(&mut T, &U)) {
        f(&mut self.level_v, &other.level_v);
        f(&mut self.v_max_v, &other.v_max_v);
        f(&mut self.i_max_a, &other.i_max_a);
        f(&mut self.bias, &other.bias);
        f(&mut self.xo_v, &other.xo_v);
        f(&mut self.r_mod_ohm, &other.r_mod_ohm);
        f(&mut self.r_out_plus_offset_ohm, &other.r_out_plus_offset_ohm);
        f(&mut self.l_out_h, &other.l_out_h);
        f(&mut self.c_block_f, &other.c_block_f);
        f(&mut self.noise_v, &other.noise_v);
        f(&mut self.r_ground_ohm, &other.r_ground_ohm);
    }
}

impl PerParam<()> {
    /// Nothing per parameter: `zip_with(&EACH, …)` visits every field of the other struct.
    const EACH: Self = Self {
        level_v: (),
        v_max_v: (),
        i_max_a: (),
        bias: (),
        xo_v: (),
        r_mod_ohm: (),
        r_out_plus_offset_ohm: (),
        l_out_h: (),
        c_block_f: (),
        noise_v: (),
        r_ground_ohm: (),
    };
}

impl PerParam<f64> {
    /// The values the smoothers move towards for the stage `p` (SI units; stand-ins for absent
    /// elements).
    pub(super) fn targets(p: &StageParams) -> Self {
        Self {
            level_v: p.level_v,
            v_max_v: p.v_max_v.unwrap_or(NONE_V_MAX_V),
            i_max_a: p.i_max_a.unwrap_or(NONE_I_MAX_A),
            bias: p.bias,
            xo_v: p.xo_v,
            r_mod_ohm: p.r_mod_ohm,
            r_out_plus_offset_ohm: p.r_out_ohm + R_LOG_OFFSET_OHM,
            l_out_h: p.l_out_h,
            c_block_f: p.c_block_f.unwrap_or(NONE_C_BLOCK_F),
            noise_v: p.noise_dbv.map_or(0.0, |d| 10f64.powf(d / 20.0)),
            r_ground_ohm: p.r_ground_ohm,
        }
    }
}

/// The smoothers.
pub(super) type Smoothed = PerParam<Smoother>;

impl Smoothed {
    /// Smoothers at `p`'s values, for base rate `fs_hz`: in the log domain for the quantities that
    /// span decades, linear for the rest.
    pub(super) fn new(p: &StageParams, fs_hz: f64) -> Self {
        let t = PerParam::targets(p);
        let mut s = Self {
            level_v: Smoother::new(t.level_v, true),
            v_max_v: Smoother::new(t.v_max_v, true),
            i_max_a: Smoother::new(t.i_max_a, true),
            bias: Smoother::new(t.bias, false),
            xo_v: Smoother::new(t.xo_v, false),
            r_mod_ohm: Smoother::new(t.r_mod_ohm, false),
            r_out_plus_offset_ohm: Smoother::new(t.r_out_plus_offset_ohm, true),
            l_out_h: Smoother::new(t.l_out_h, false),
            c_block_f: Smoother::new(t.c_block_f, true),
            noise_v: Smoother::new(t.noise_v, false),
            r_ground_ohm: Smoother::new(t.r_ground_ohm, false),
        };
        s.zip_with(&t, |s, _| s.set_rate(fs_hz));
        s
    }

    /// Moves every target to `p`'s values, at once if `snap`.
    pub(super) fn set_targets(&mut self, p: &StageParams, snap: bool) {
        self.zip_with(&PerParam::targets(p), |s, &v| s.set(v, snap));
    }

    /// Advances every smoother one sample; true while any still moves.
    pub(super) fn tick(&mut self) -> bool {
        let mut moving = false;
        self.zip_with(&PerParam::EACH, |s, _| moving |= s.tick());
        moving
    }
}
