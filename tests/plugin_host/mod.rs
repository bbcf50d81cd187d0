//! A minimal host for driving the plugin object in tests: a process context whose background
//! tasks are queued (in pre-reserved memory) for the test to run after each block, and an
//! activation context.
#![allow(dead_code)]

use loadline::plugin::{Loadline, Task};
use nice_plug::prelude::*;
use std::cell::RefCell;

/// A process context that queues background tasks (in pre-reserved memory) for the test to run
/// after the block, as the host's background thread would.
pub struct Ctx {
    pub transport: Transport,
    pub tasks: RefCell<Vec<Task>>,
}

impl Ctx {
    pub fn new(fs: f32) -> Self {
        Self { transport: Transport::new(fs), tasks: RefCell::new(Vec::with_capacity(64)) }
    }
}

impl ProcessContext<Loadline> for Ctx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute_background(&self, task: Task) {
        let mut t = self.tasks.borrow_mut();
        if t.len() < t.capacity() {
            t.push(task);
        }
    }
    fn execute_gui(&self, task: Task) {
        self.execute_background(task)
    }
    fn transport(&self) -> &Transport {
        &self.transport
    }
    fn next_event(&mut self) -> Option<PluginNoteEvent<Loadline>> {
        None
    }
    fn try_send_event(
        &mut self,
        event: PluginNoteEvent<Loadline>,
    ) -> Result<(), (PluginNoteEvent<Loadline>, nice_plug::context::process::SendEventError)> {
        Err((event, nice_plug::context::process::SendEventError::NoOutputBuffer))
    }
    fn set_latency_samples(&self, _samples: u32) {}
    fn request_restart(&self) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}

pub struct ActCtx;
impl ActivateContext<Loadline> for ActCtx {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    fn execute(&self, _task: Task) {}
    fn set_latency_samples(&self, _samples: u32) {}
    fn set_current_voice_capacity(&self, _capacity: u32) {}
}
