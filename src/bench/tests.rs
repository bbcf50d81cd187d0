use super::*;
use crate::dsp::Network;

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

/// The response the bench reads from rendered audio is the one the editor's plots draw (one model
/// for the sound and the picture): within 0.05 dB at every tone from 20 Hz to 20 kHz, for every
/// library load behind a laptop-like source (10 Ω + 220 µF) and a 120 Ω line out.
#[test]
fn the_measured_response_is_the_plotted_one() {
    let an = Analyser::default();
    let stages = [
        StageParams { r_out_ohm: 10.0, c_block_f: Some(220e-6), ..StageParams::IDEAL },
        StageParams { r_out_ohm: 120.0, ..StageParams::IDEAL },
    ];
    let mut worst: f64 = 0.0;
    for load in crate::library::loads() {
        for st in &stages {
            let (_, pts) = sweeps::frequency_response(&an, st, &load.network);
            assert!(pts.len() >= 115, "{} tones", pts.len());
            for p in &pts {
                let err = p.measured_db - p.model_db;
                worst = worst.max(err.abs());
                assert!(err.abs() < 0.05, "{} behind {} Ω at {:.0} Hz: measured {:.3} dB, model {:.3} dB", load.id, st.r_out_ohm, p.f_hz, p.measured_db, p.model_db);
            }
        }
    }
    println!("worst response difference, bench against model: {worst:.4} dB");
}

/// THD+N against level: at the lowest levels it is the stage's noise floor (given over 20 Hz to
/// 20 kHz at the source, through the divider into the load) over the signal, within 1 dB; at the
/// rating point THD is 1 %, and past it THD rises (clipping).
#[test]
fn thd_n_sweep_shows_the_noise_floor_and_the_clip_point() {
    let an = Analyser::default();
    let stage = StageParams { level_v: 10.0, r_out_ohm: 10.0, v_max_v: Some(2.0), noise_dbv: Some(-90.0), ..StageParams::IDEAL };
    let load = Network::R(300.0);
    let rating = an.max_output_into(&stage, &load, 0.01);
    assert!(!rating.at_full_scale);
    let sweep = sweeps::thd_n_sweep(&an, &stage, &load, &rating);
    let noise_at_load = 10f64.powf(-90.0 / 20.0) * 300.0 / 310.0;
    let low = sweep[0];
    let want = 100.0 * noise_at_load / low.v_rms;
    println!("lowest step: {:.3e} V, THD+N {:.4} % (noise floor predicts {want:.4} %)", low.v_rms, low.thd_n_pct);
    assert!((20.0 * (low.thd_n_pct / want).log10()).abs() < 1.0, "{} % against {want} %", low.thd_n_pct);
    let near = sweep.iter().min_by(|a, b| (a.drive_v_rms / rating.drive_v_rms).ln().abs().total_cmp(&(b.drive_v_rms / rating.drive_v_rms).ln().abs())).unwrap();
    println!("near the rating ({:.3} V): THD {:.3} %", near.v_rms, near.thd_pct);
    let last = sweep.last().unwrap();
    assert!(last.thd_pct > 3.0, "6 dB past the rating: THD {} %", last.thd_pct);
    assert!(sweep.windows(2).all(|w| w[1].v_rms > w[0].v_rms * 0.99));
}

/// The whole measurement of a named preset into a named headphone runs and is self-consistent:
/// the output impedance is the preset's, the maximum into each resistive load matches the
/// single reading, and the maximum into the headphone lies between those into its |Z|'s neighbours.
#[test]
fn a_full_measurement_is_consistent() {
    let an = Analyser::default();
    let stage = crate::library::find_stage("consumer-line-out").expect("a library preset").params;
    let hp = &crate::library::loads()[0].network;
    let m = measure(&an, &stage, hp);
    assert!((m.output_impedance_ohm / stage.r_out_ohm - 1.0).abs() < 0.01, "{}", m.output_impedance_ohm);
    assert_eq!(m.max_output.len(), LOAD_SWEEP_OHM.len());
    assert_eq!(m.max_output[4], an.max_output(&stage, 32.0, 0.01));
    assert!(m.response.len() >= 115 && m.thd_n.len() == 41);
    // The headphone's |Z| at 1 kHz (30.1 Ω) lies between the 24 Ω and 32 Ω loads.
    let v_hp = m.max_into_headphone.v_rms;
    assert!(m.max_output[3].v_rms <= v_hp && v_hp <= m.max_output[4].v_rms, "{v_hp} V");
    println!("{m:#?}");
}

/// With a shared ground the bench reads the crosstalk from a rendered stereo pair (left driven,
/// right silent) and it is the editor's crosstalk plot: within 0.05 dB at every tone for a
/// dynamic IEM and a multi-BA IEM behind 0.5 Ω through 0.3 Ω and 3 Ω. Its single-engine response
/// is a mono signal's, the plotted divider through `Zs + 2·R_g`; its output impedance is one
/// channel's, `Zs + R_g`. Separate returns give no crosstalk reading.
#[test]
fn the_measured_crosstalk_is_the_plotted_one() {
    let an = Analyser::default();
    let mut worst: f64 = 0.0;
    for id in ["dynamic-iem-16", "multi-ba-dip5"] {
        let load = &crate::library::find_load(id).unwrap().network;
        for r_g in [0.3, 3.0] {
            let st = StageParams { r_out_ohm: 0.5, r_ground_ohm: r_g, ..StageParams::IDEAL };
            let pts = sweeps::crosstalk(&an, &st, load);
            assert!(pts.len() >= 115, "{} tones", pts.len());
            for p in &pts {
                let err = p.measured_db - p.model_db;
                worst = worst.max(err.abs());
                assert!(err.abs() < 0.05, "{id} through {r_g} Ω at {:.0} Hz: measured {:.3} dB, model {:.3} dB", p.f_hz, p.measured_db, p.model_db);
            }
            let (_, resp) = sweeps::frequency_response(&an, &st, load);
            assert!(resp.iter().all(|p| (p.measured_db - p.model_db).abs() < 0.05), "{id} through {r_g} Ω: the mono response");
        }
    }
    println!("worst crosstalk difference, bench against model: {worst:.4} dB");
    // One channel's output impedance, read with the other idle: the source's plus the ground's.
    let st = StageParams { r_out_ohm: 1.0, r_ground_ohm: 0.5, ..StageParams::IDEAL };
    let z = an.output_impedance(&st, 600.0, 32.0);
    println!("output impedance through a 0.5 Ω ground: {z:.4} Ω");
    assert!((z / 1.5 - 1.0).abs() < 0.01, "{z} Ω");
    let sep = StageParams { r_out_ohm: 0.5, ..StageParams::IDEAL };
    assert!(sweeps::crosstalk(&an, &sep, &Network::R(32.0)).is_empty());
}

/// Presets calibrated to a published measurement read it on the bench: the phone dongle 0.33 Ω;
/// the Nexus 5X jack 3.44 Ω on one channel and, with both channels loaded by 35.9 Ω and playing
/// the same tone (a mono signal through the shared ground), 3.90 Ω (from the measurement's 286,
/// 261 and 258 mV; `data/stages.toml`).
#[test]
fn presets_read_their_published_output_impedance() {
    let an = Analyser::default();
    let stage = |id: &str| crate::library::find_stage(id).unwrap().params;
    for (id, want) in [("phone-dongle", 0.33), ("phone-jack", 3.44)] {
        let z = an.output_impedance(&stage(id), 600.0, 32.0);
        println!("{id}: {z:.3} Ω on one channel (published {want} Ω)");
        assert!((z - want).abs() < 0.02, "{id}: {z} Ω");
    }
    let r_ohm = 35.9;
    let (_, resp) = sweeps::frequency_response(&an, &stage("phone-jack"), &Network::R(r_ohm));
    let at_1k = resp.iter().min_by(|a, b| (a.f_hz - 1000.0).abs().total_cmp(&(b.f_hz - 1000.0).abs())).unwrap();
    let z_both = r_ohm * (10f64.powf(-at_1k.measured_db / 20.0) - 1.0);
    println!("phone-jack: {z_both:.3} Ω with both channels loaded (published 3.90 Ω)");
    assert!((z_both - 3.90).abs() < 0.05, "{z_both} Ω");
}
