use super::*;

/// Ideal stages with a set Zs, V_max and I_max into resistive loads from 8 Ω to 600 Ω: the bench's
/// output impedance and maximum output agree with the analytic values within 1 % (issue 18). One
/// stage is rail-limited into every load, the other current-limited, each with its other limit
/// far away (where both knees meet, the 1 % point comes earlier than either predicts).
#[test]
fn the_bench_agrees_with_the_analytic_ideal_stage() {
    let an = Analyser::default();
    println!("knee's fundamental gain at onset: {:.5}", knee_fundamental_gain());
    // Full scale (the Level) far above both limits, so the limits, not the DAC, set the maximum.
    let rails = StageParams { level_v: 20.0, r_out_ohm: 10.0, v_max_v: Some(2.0), i_max_a: Some(2.0), ..StageParams::IDEAL };
    let current = StageParams { level_v: 40.0, r_out_ohm: 47.0, v_max_v: Some(40.0), i_max_a: Some(0.02), ..StageParams::IDEAL };
    for (name, stage) in [("rail-limited", rails), ("current-limited", current)] {
        let z = an.output_impedance(&stage, 600.0, 32.0);
        println!("{name}: output impedance {z:.3} Ω (set {} Ω)", stage.r_out_ohm);
        assert!((z / stage.r_out_ohm - 1.0).abs() < 0.01, "{name}: {z}");
        for r in [8.0, 16.0, 32.0, 64.0, 150.0, 300.0, 600.0] {
            let m = an.max_output(&stage, r, 0.01);
            let want = predicted_max_v(&stage, r).unwrap();
            println!("  {r:>5} Ω: {:.4} V RMS, {:.2} mW at 1 % THD; analytic {want:.4} V ({:+.2} %)", m.v_rms, m.p_w * 1e3, 100.0 * (m.v_rms / want - 1.0));
            assert!((m.v_rms / want - 1.0).abs() < 0.01, "{name} {r} Ω: {} V against {want} V", m.v_rms);
        }
    }
    // A Level below the limits: the maximum is the 0 dBFS output, Level·R/(R + Zs).
    let dac = StageParams { level_v: 1.0, ..rails };
    let m = an.max_output(&dac, 300.0, 0.01);
    assert!((m.v_rms / (300.0 / 310.0) - 1.0).abs() < 0.001, "{}", m.v_rms);
}
