//! Parameter smoothing, so automation never clicks.

/// A one-pole smoother, in the log domain for quantities that span decades (impedances, voltages,
/// currents, capacitances) and linear otherwise. Advanced once per base-rate sample.
#[derive(Debug, Clone, Copy)]
pub struct Smoother {
    cur: f64,
    target: f64,
    coef: f64,
    log: bool,
}

/// Time constant of every stage parameter, seconds. 20 ms: fast enough to follow automation,
/// slow enough that a jump between extremes spreads its energy below a few tens of hertz.
pub const SMOOTHING_TAU_S: f64 = 0.020;

impl Smoother {
    /// A smoother at `value`; `log` selects the logarithmic domain (`value` must be > 0 then).
    pub fn new(value: f64, log: bool) -> Self {
        let v = if log { value.ln() } else { value };
        Self { cur: v, target: v, coef: 0.0, log }
    }

    /// Sets the per-sample coefficient for sample rate `fs_hz`.
    pub fn set_rate(&mut self, fs_hz: f64) {
        self.coef = (-1.0 / (SMOOTHING_TAU_S * fs_hz)).exp();
    }

    /// Sets a new target (jumps there at once if `immediate`).
    #[inline]
    pub fn set(&mut self, value: f64, immediate: bool) {
        self.target = if self.log { value.ln() } else { value };
        if immediate {
            self.cur = self.target;
        }
    }

    /// Advances one sample; returns true while still moving.
    #[inline]
    pub fn tick(&mut self) -> bool {
        if self.cur == self.target {
            return false;
        }
        self.cur = self.target + (self.cur - self.target) * self.coef;
        if (self.cur - self.target).abs() < 1e-9 {
            self.cur = self.target;
        }
        true
    }

    /// The current value (in the parameter's own domain).
    #[inline]
    pub fn value(&self) -> f64 {
        if self.log { self.cur.exp() } else { self.cur }
    }

    /// True once the target has been reached.
    #[inline]
    pub fn settled(&self) -> bool {
        self.cur == self.target
    }
}
