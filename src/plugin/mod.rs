//! The Loadline plugin (VST3 and CLAP through nice-plug): parameter glue around
//! [`crate::processor::Processor`], which does all the audio work.

pub mod format;
pub mod params;
pub mod presets;
pub mod state;

use crate::dsp::engine::PreparedLoad;
use crate::dsp::Quality;
use crate::processor::library;
use crate::processor::meters::{meters, MeterReader, MeterTarget, MeterWriter};
use crate::processor::config::ImportedCurve;
use crate::processor::{library_sensitivities, mailbox, ImportReceiver, ImportSender, ImportedLoad, Processor, Settings, SlotSettings};
use nice_plug::prelude::*;
use nice_plug_egui::EguiEditorState;
use params::LoadlineParams;
use std::sync::{Arc, Mutex};

/// Quality the plugin runs at (the renderer's default too, so their outputs match).
pub const PLUGIN_QUALITY: Quality = Quality::Default;
/// Seed of the noise generators (fixed, so renders are reproducible).
pub const NOISE_SEED: u64 = 1;

/// Work done off the audio thread on its behalf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Task {
    /// Compile slot `slot`'s imported curve (generation `generation`) for the processor's
    /// configuration and send it to the audio thread.
    BuildImported { slot: usize, generation: u64, fs_hz: f64, quality: Quality, channels: usize },
    /// Drop whatever the audio thread has handed back.
    Collect,
}

/// The plugin object.
pub struct Loadline {
    /// Parameters and persisted state (shared with the host and the editor).
    params: Arc<LoadlineParams>,
    /// The signal path; built in `activate` (off the audio thread), used by `process`.
    processor: Option<Processor>,
    /// Audio end of the imported-curve mailbox.
    receiver: ImportReceiver,
    /// Background end; moved into the task executor when the wrapper asks for it.
    sender: Option<ImportSender>,
    /// A received curve the processor could not take yet (audio thread).
    pending: Option<ImportedLoad>,
    /// A replaced curve waiting for room in the return ring (audio thread).
    returning: Option<ImportedLoad>,
    /// Imported-curve generation last requested or installed, per slot (audio thread).
    requested: [u64; 2],
    /// The next block starts settled at the parameters it brings (set by `activate` and `reset`:
    /// hosts deliver the values changed before a reset with the next block, not before it).
    snap_next: bool,
    /// The host's timeline position at the start of the last block, while its transport plays
    /// (audio thread; see [`Loadline::follow_transport`]).
    host_pos: Option<i64>,
    /// The host activated the plugin for an offline render (export, bounce, freewheel; see
    /// `SharedState::bypass_offline`). Set in `activate`.
    offline: bool,
    /// The editor window's size and open flag (the audio thread meters only while it is open).
    editor_state: Arc<EguiEditorState>,
    /// Audio end of the meters (see [`crate::processor::meters`]).
    meter: MeterWriter,
    /// GUI end of the meters, handed to the editor (never locked by the audio thread).
    meter_reader: Arc<Mutex<MeterReader>>,
}

impl Default for Loadline {
    fn default() -> Self {
        let (sender, receiver) = mailbox();
        let (meter, meter_reader) = meters();
        Self {
            params: Arc::new(LoadlineParams::default()),
            processor: None,
            receiver,
            sender: Some(sender),
            pending: None,
            returning: None,
            requested: [0; 2],
            snap_next: true,
            host_pos: None,
            offline: false,
            editor_state: crate::editor::default_state(),
            meter,
            meter_reader: Arc::new(Mutex::new(meter_reader)),
        }
    }
}

impl Loadline {
    /// The processor settings the parameters describe now (audio thread: atomics only).
    pub fn settings(params: &LoadlineParams) -> Settings {
        let slot = |k: usize| {
            let p = params.slot(k);
            SlotSettings { load: p.headphone.value().max(0) as usize, stage: p.stage(params.shared.extras(k)), spl_db: p.spl_db() }
        };
        Settings {
            active: params.active_slot.value().into(),
            level_match: params.level_match.value(),
            listen: params.listen.value().into(),
            trim_db: params.output_trim.value() as f64,
            bypass: params.bypass.value(),
            slots: [slot(0), slot(1)],
        }
    }

    /// The parameters (for tests and the editor).
    pub fn params_arc(&self) -> Arc<LoadlineParams> {
        self.params.clone()
    }

    /// The processor, once activated (for tests).
    pub fn processor(&self) -> Option<&Processor> {
        self.processor.as_ref()
    }

    /// Keys the noise on the host's timeline while its transport plays, so an export or playback
    /// of the same passage gets the same noise whatever ran before, and `loadline render` of the
    /// same audio gets it too (its sample index is the timeline). Stopped, or with no position,
    /// the processor counts on by itself. A position that did not move since the last block is
    /// ignored (a host that reports playing without advancing would otherwise repeat one block's
    /// noise). Audio thread; no allocation.
    ///
    /// A host that compensates the plugin's latency reports the playhead, the time at which this
    /// block's output is heard, and feeds audio from one latency later (Ardour does; measured in
    /// `tests/host/test_ardour.py`): the key is the position of the audio coming in, the reported
    /// position plus the latency.
    fn follow_transport(&mut self, transport: &Transport) {
        let pos = transport.pos_samples().filter(|_| transport.playing);
        if let (Some(p), Some(n)) = (self.processor.as_mut(), pos) {
            if self.host_pos != Some(n) {
                // Before the timeline's start (pre-roll) wraps to the top of the counter: still a
                // fixed position.
                p.set_position(n.wrapping_add(p.latency() as i64) as u64);
            }
        }
        self.host_pos = pos;
    }

    /// Exchanges imported curves with the background thread (audio thread; no allocation).
    fn service_imports(&mut self, context: &mut impl ProcessContext<Self>) {
        let Some(proc) = self.processor.as_mut() else { return };
        // Ask for a build when a slot's curve changed.
        for slot in 0..2 {
            let g = self.params.shared.generation(slot);
            if g != self.requested[slot] {
                self.requested[slot] = g;
                context.execute_background(Task::BuildImported {
                    slot,
                    generation: g,
                    fs_hz: proc.sample_rate(),
                    quality: proc.quality(),
                    channels: proc.channels(),
                });
            }
        }
        // Install what arrived; stale or mismatched builds go straight back.
        if self.pending.is_none() {
            self.pending = self.receiver.try_recv();
        }
        if let Some(p) = self.pending.take() {
            if p.generation != self.requested[p.slot.min(1)] {
                self.returning = self.returning.take().or(Some(p));
            } else {
                match proc.install_imported(p) {
                    Ok(()) => {}
                    Err(p) if p.fits(proc.sample_rate(), proc.quality(), proc.channels()) => self.pending = Some(p),
                    Err(p) => self.returning = self.returning.take().or(Some(p)),
                }
            }
        }
        // Hand replaced curves back to be dropped off this thread.
        if self.returning.is_none() {
            self.returning = proc.take_garbage();
        }
        if let Some(old) = self.returning.take() {
            match self.receiver.give_back(old) {
                Ok(()) => context.execute_background(Task::Collect),
                Err(old) => self.returning = Some(old),
            }
        }
    }
}

impl Plugin for Loadline {
    const NAME: &'static str = "Loadline";
    const VENDOR: &'static str = "Loadline";
    const URL: &'static str = "https://example.invalid/loadline";
    const EMAIL: &'static str = "loadline@example.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    type Editor = nice_plug_egui::EguiEditor<crate::editor::LoadlineEditor>;
    type SysExMessage = ();
    type BackgroundTask = Task;

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        crate::editor::create(self.params.clone(), self.meter_reader.clone(), self.editor_state.clone())
    }

    fn task_executor(&mut self) -> TaskExecutor<Self> {
        let sender = Mutex::new(self.sender.take());
        let params = self.params.clone();
        Box::new(move |task| {
            let Ok(mut guard) = sender.lock() else { return };
            let Some(sender) = guard.as_mut() else { return };
            match task {
                Task::BuildImported { slot, generation, fs_hz, quality, channels } => {
                    let Some(curve) = params.shared.imported(slot) else {
                        sender.collect();
                        return;
                    };
                    match ImportedLoad::build(&curve.network, fs_hz, quality, channels, slot, generation).map(|l| l.with_sensitivity(curve.sensitivity_db_spl_per_v)) {
                        Ok(load) => {
                            if sender.send(load).is_err() {
                                nice_warn!("Loadline: imported-curve mailbox full; curve dropped");
                            }
                        }
                        Err(e) => nice_warn!("Loadline: cannot use slot {slot}'s imported curve: {e}"),
                    }
                }
                Task::Collect => {
                    sender.collect();
                }
            }
        })
    }

    fn filter_state(state: &mut PluginState) {
        // Restore each Headphone by load id, so a grown or reordered library keeps the choice.
        let Some(field) = state.fields.get("loadline").cloned() else { return };
        for (k, id) in ["a_hp", "b_hp"].into_iter().enumerate() {
            if let Some(index) = state::headphone_index_from_state(&field, k) {
                state.params.insert(id.to_string(), nice_plug::plugin::ParamValue::I32(index as i32));
            }
        }
    }

    fn activate(
        &mut self,
        audio_io_layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let channels = audio_io_layout.main_output_channels.map_or(2, NonZeroU32::get) as usize;
        let fs_hz = buffer_config.sample_rate as f64;
        let shared = &self.params.shared;
        let generations = [shared.generation(0), shared.generation(1)];
        let curves = [shared.imported(0), shared.imported(1)];
        let settings = Self::settings(&self.params);
        let imported = [curves[0].as_ref().map(|c| &c.network), curves[1].as_ref().map(|c| &c.network)];
        // The library's fits are shared by every activation at this rate (see `processor::library`).
        let built = library::shared(fs_hz, PLUGIN_QUALITY).and_then(|lib| {
            Processor::prepared(&lib, channels, imported, &settings, NOISE_SEED).or_else(|e| {
                // A curve the engine cannot compile at this rate must not stop the session from
                // playing: that slot plays its first library load instead (the curve stays saved).
                let usable = imported.map(|c| c.filter(|net| PreparedLoad::build(net, fs_hz, PLUGIN_QUALITY).is_ok()));
                nice_error!("Loadline: an imported curve cannot be used at {fs_hz} Hz ({e}); playing without it");
                Processor::prepared(&lib, channels, usable, &settings, NOISE_SEED)
            })
        });
        match built {
            Ok(mut p) => {
                // Sensitivities for the Listening Level: the library's and those of the curves.
                let sens = |c: &Option<ImportedCurve>| c.as_ref().and_then(|c| c.sensitivity_db_spl_per_v);
                p.set_sensitivities(&library_sensitivities(), [sens(&curves[0]), sens(&curves[1])]);
                p.snap();
                context.set_latency_samples(p.latency() as u32);
                self.processor = Some(p);
                self.requested = generations;
                self.snap_next = true;
                self.host_pos = None;
                self.offline = buffer_config.process_mode == ProcessMode::Offline;
                // Anything built for an earlier configuration is now useless.
                self.pending = None;
                true
            }
            Err(e) => {
                nice_error!("Loadline: cannot prepare the processor: {e}");
                false
            }
        }
    }

    fn reset(&mut self) {
        if let Some(p) = self.processor.as_mut() {
            p.reset();
        }
        self.snap_next = true;
        self.host_pos = None;
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.service_imports(context);
        self.follow_transport(context.transport());
        let mut settings = Self::settings(&self.params);
        // "Bypass in offline renders": the same dry path as the host's bypass (delayed by the
        // latency, crossfaded if it is switched during a render).
        settings.bypass |= self.offline && self.params.shared.bypass_offline();
        if let Some(p) = self.processor.as_mut() {
            p.set_settings(&settings);
            // After a reset, an activation or a state load.
            if std::mem::take(&mut self.snap_next) | self.params.shared.take_state_loaded() {
                // Everything starts at the values this block brings instead of gliding there
                // from the ones before the reset (the states were cleared, so nothing clicks).
                p.snap();
            }
            if self.editor_state.is_open() {
                // Meter the slot being heard (atomics only; see `processor::meters`).
                let k = settings.active.index();
                let target = MeterTarget { slot: k, load: p.current_load(k), stage: p.effective_stage(k) };
                self.meter.begin_block(p.sample_rate(), target);
                p.process_metered(buffer.as_slice(), Some(&mut self.meter));
                self.meter.end_block();
            } else {
                p.process(buffer.as_slice());
            }
        }
        ProcessStatus::Normal
    }
}

impl ClapPlugin for Loadline {
    const CLAP_ID: &'static str = "org.loadline.loadline";
    const CLAP_DESCRIPTION: Option<&'static str> =
        Some("Hear headphones driven by a particular output stage: A/B slots, level match, ideal and difference");
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] =
        &[ClapFeature::AudioEffect, ClapFeature::Stereo, ClapFeature::Mono, ClapFeature::Utility, ClapFeature::Mastering];
}

impl Vst3Plugin for Loadline {
    const VST3_CLASS_ID: [u8; 16] = *b"LoadlineHpOutStg";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] = &[Vst3SubCategory::Fx, Vst3SubCategory::Tools];
}
