//! Delivering the outbox: every queued email is sent, retried with backoff while the mail
//! server is unreachable, and only abandoned when the server refuses it for good.

use std::sync::Arc;

use chrono::Duration;

use crate::error::DomainResult;
use crate::mail::{DeliveryFailure, OutboxItem};
use crate::ports::{Clock, MailOutbox, Mailer};

/// How deliveries are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the first failure; doubled after each further failure.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// How long a claimed email is reserved for one deliverer before others may retry it.
    pub lease: Duration,
    /// How many emails one pass claims.
    pub batch_size: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first_delay: Duration::seconds(2),
            max_delay: Duration::minutes(10),
            lease: Duration::minutes(2),
            batch_size: 20,
        }
    }
}

impl RetryPolicy {
    /// The wait before the next attempt after `failed_attempts` failures (at least one).
    pub fn delay_after(&self, failed_attempts: u32) -> Duration {
        let doublings = failed_attempts.saturating_sub(1).min(20);
        let delay = self.first_delay * 2_i32.pow(doublings);
        delay.min(self.max_delay)
    }
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Emails the mail server accepted.
    pub sent: u32,
    /// Emails that failed for now and were rescheduled.
    pub rescheduled: u32,
    /// Emails the mail server refused for good.
    pub abandoned: u32,
}

/// Sends queued emails.
pub struct MailDelivery {
    outbox: Arc<dyn MailOutbox>,
    mailer: Arc<dyn Mailer>,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
}

impl MailDelivery {
    /// A deliverer draining `outbox` through `mailer`.
    pub fn new(
        outbox: Arc<dyn MailOutbox>,
        mailer: Arc<dyn Mailer>,
        clock: Arc<dyn Clock>,
        policy: RetryPolicy,
    ) -> Self {
        Self {
            outbox,
            mailer,
            clock,
            policy,
        }
    }

    /// Claims the emails that are due and tries each once.
    pub async fn deliver_due(&self) -> DomainResult<DeliveryReport> {
        let now = self.clock.now();
        let due = self
            .outbox
            .claim_due(now, now + self.policy.lease, self.policy.batch_size)
            .await?;
        let mut report = DeliveryReport::default();
        for item in due {
            self.deliver(item, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver(&self, item: OutboxItem, report: &mut DeliveryReport) -> DomainResult<()> {
        match self.mailer.send(&item.email).await {
            Ok(()) => {
                self.outbox.mark_sent(item.id).await?;
                report.sent += 1;
            }
            Err(DeliveryFailure::Transient(reason)) => {
                let failed_attempts = item.failed_attempts + 1;
                let retry_at = self.clock.now() + self.policy.delay_after(failed_attempts);
                self.outbox
                    .reschedule(item.id, retry_at, failed_attempts, &reason)
                    .await?;
                report.rescheduled += 1;
            }
            Err(DeliveryFailure::Permanent(reason)) => {
                self.outbox.abandon(item.id, &reason).await?;
                report.abandoned += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use futures_executor::block_on;
    use mockall::predicate::eq;

    use super::*;
    use crate::email::Email;
    use crate::mail::OutgoingEmail;
    use crate::ports::{MockClock, MockMailOutbox, MockMailer};
    use crate::username::Username;

    fn item(id: i64, failed_attempts: u32) -> OutboxItem {
        OutboxItem {
            id,
            email: OutgoingEmail::VerifyEmail {
                to: Email::parse("ada@example.org").unwrap(),
                username: Username::parse("ada").unwrap(),
                link: "http://x/verify".into(),
                expires_in_minutes: 10,
            },
            failed_attempts,
            queued_at: Utc::now(),
        }
    }

    /// Makes `outbox` hand out `item` whenever due mail is claimed.
    fn claiming(outbox: &mut MockMailOutbox, item: OutboxItem) {
        outbox
            .expect_claim_due()
            .returning(move |_, _, _| Ok(vec![item.clone()]));
    }

    /// One delivery pass over `outbox` and `mailer` at `now`, under the default policy.
    fn deliver_once(
        outbox: MockMailOutbox,
        mailer: MockMailer,
        now: DateTime<Utc>,
    ) -> DeliveryReport {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(now);
        let delivery = MailDelivery::new(
            Arc::new(outbox),
            Arc::new(mailer),
            Arc::new(clock),
            RetryPolicy::default(),
        );
        block_on(delivery.deliver_due()).unwrap()
    }

    #[test]
    fn retry_delays_double_up_to_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.delay_after(1), Duration::seconds(2));
        assert_eq!(policy.delay_after(2), Duration::seconds(4));
        assert_eq!(policy.delay_after(5), Duration::seconds(32));
        assert_eq!(policy.delay_after(40), Duration::minutes(10));
    }

    #[test]
    fn sent_mail_leaves_the_outbox() {
        let mut outbox = MockMailOutbox::new();
        claiming(&mut outbox, item(1, 0));
        outbox
            .expect_mark_sent()
            .with(eq(1))
            .times(1)
            .returning(|_| Ok(()));
        let mut mailer = MockMailer::new();
        mailer.expect_send().times(1).returning(|_| Ok(()));
        let report = deliver_once(outbox, mailer, Utc::now());
        assert_eq!(report.sent, 1);
    }

    #[test]
    fn a_transient_failure_reschedules_with_backoff_and_loses_nothing() {
        let now = Utc::now();
        let mut outbox = MockMailOutbox::new();
        claiming(&mut outbox, item(7, 2));
        outbox
            .expect_reschedule()
            .withf(move |id, at, failed, reason| {
                *id == 7
                    && *at == now + Duration::seconds(8)
                    && *failed == 3
                    && reason.contains("down")
            })
            .times(1)
            .returning(|_, _, _, _| Ok(()));
        outbox.expect_mark_sent().never();
        outbox.expect_abandon().never();
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .returning(|_| Err(DeliveryFailure::Transient("server down".into())));
        let report = deliver_once(outbox, mailer, now);
        assert_eq!(report.rescheduled, 1);
    }

    #[test]
    fn a_permanent_refusal_is_abandoned_not_retried() {
        let mut outbox = MockMailOutbox::new();
        claiming(&mut outbox, item(3, 0));
        outbox
            .expect_abandon()
            .with(eq(3), eq("no such mailbox"))
            .times(1)
            .returning(|_, _| Ok(()));
        outbox.expect_reschedule().never();
        let mut mailer = MockMailer::new();
        mailer
            .expect_send()
            .returning(|_| Err(DeliveryFailure::Permanent("no such mailbox".into())));
        let report = deliver_once(outbox, mailer, Utc::now());
        assert_eq!(report.abandoned, 1);
    }

    #[test]
    fn claims_are_leased_for_the_policy_lease() {
        let now = Utc::now();
        let mut outbox = MockMailOutbox::new();
        outbox
            .expect_claim_due()
            .withf(move |at, lease_until, limit| {
                *at == now && *lease_until == now + Duration::minutes(2) && *limit == 20
            })
            .times(1)
            .returning(|_, _, _| Ok(vec![]));
        let report = deliver_once(outbox, MockMailer::new(), now);
        assert_eq!(report, DeliveryReport::default());
    }
}
