//! Whisper's adapters for a single instance: the in-process event bus, presence counted in
//! memory and media files on disk. The
//! scale-out adapters (`whisper-redis`) implement the same ports for many instances.

pub mod bus;
pub mod incoming;
pub mod media;
pub mod presence;

pub use bus::LocalEventBus;
pub use media::FsMediaStore;
pub use presence::LocalPresence;
