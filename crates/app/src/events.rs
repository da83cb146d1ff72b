//! The in-process event bus lives with the hub that listens to it.

pub use whisper_ws::LocalEventBus;
