//! Every connection is an open file: the default soft limit (often 1,024) would cap the
//! server far below what the host allows, so serving starts by raising it to the hard limit.

use nix::errno::Errno;
use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// What raising the open-file limit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenFileLimit {
    /// The soft limit was below the hard limit and now equals it.
    Raised { from: u64, to: u64 },
    /// The soft limit already was the hard limit.
    AlreadyAtHardLimit(u64),
    /// The kernel refused to raise it (some sandboxes do): `soft` stays in force.
    Refused { soft: u64, hard: u64, error: Errno },
}

impl OpenFileLimit {
    /// The soft limit in force afterwards: how many files (connections) may be open.
    pub fn in_force(self) -> u64 {
        match self {
            Self::Raised { to, .. } => to,
            Self::AlreadyAtHardLimit(limit) => limit,
            Self::Refused { soft, .. } => soft,
        }
    }
}

/// Raises the soft open-file limit to the hard limit; fails only when the limits cannot
/// be read.
pub fn raise_to_hard_limit() -> Result<OpenFileLimit, Errno> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(raise(soft, hard, |limit| {
        setrlimit(Resource::RLIMIT_NOFILE, limit, limit)
    }))
}

/// Raises `soft` to `hard` through `set` (which sets both limits), unless it is there already.
fn raise(soft: u64, hard: u64, set: impl FnOnce(u64) -> Result<(), Errno>) -> OpenFileLimit {
    if soft >= hard {
        return OpenFileLimit::AlreadyAtHardLimit(soft);
    }
    match set(hard) {
        Ok(()) => OpenFileLimit::Raised {
            from: soft,
            to: hard,
        },
        Err(error) => OpenFileLimit::Refused { soft, hard, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reported_limit_is_the_soft_limit_in_force_afterwards() {
        let outcome = raise_to_hard_limit().unwrap();
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!(outcome.in_force(), soft, "{outcome:?}");
        match outcome {
            OpenFileLimit::Raised { from, to } => {
                assert!(from < to, "{outcome:?}");
                assert_eq!(soft, hard, "raised to the hard limit");
            }
            OpenFileLimit::AlreadyAtHardLimit(_) => assert_eq!(soft, hard),
            // Where raising is refused (EPERM), the old soft limit must still be in force.
            OpenFileLimit::Refused { soft: before, .. } => assert!(before < hard),
        }
    }

    #[test]
    fn a_soft_limit_below_the_hard_one_is_raised_to_it() {
        let mut set_to = None;
        let outcome = raise(1024, 4096, |limit| {
            set_to = Some(limit);
            Ok(())
        });
        assert_eq!(
            outcome,
            OpenFileLimit::Raised {
                from: 1024,
                to: 4096
            }
        );
        assert_eq!(set_to, Some(4096));
        assert_eq!(outcome.in_force(), 4096);
    }

    #[test]
    fn a_soft_limit_at_the_hard_one_is_left_alone() {
        let outcome = raise(4096, 4096, |_| panic!("nothing to raise"));
        assert_eq!(outcome, OpenFileLimit::AlreadyAtHardLimit(4096));
        assert_eq!(outcome.in_force(), 4096);
    }

    #[test]
    fn a_refused_raise_reports_the_soft_limit_still_in_force() {
        let outcome = raise(1024, 4096, |_| Err(Errno::EPERM));
        assert_eq!(
            outcome,
            OpenFileLimit::Refused {
                soft: 1024,
                hard: 4096,
                error: Errno::EPERM
            }
        );
        assert_eq!(outcome.in_force(), 1024);
    }
}
