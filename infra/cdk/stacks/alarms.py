"""Alarms on what matters to a practice: offers not going out (outbox age, sender errors), gaps not
filling (fill rate), the API failing (5xx share), and the database running out of room (CPU,
connections, replica lag). Every alarm notifies one KMS-encrypted SNS topic."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.database import Database
from stacks.services import METRICS_NAMESPACE, Services


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        services: Services,
        database: Database,
        email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "Topic", display_name="SlotOptim alarms", master_key=key, enforce_ssl=True)
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        self.alarms: dict[str, cloudwatch.Alarm] = {}

        def engine_metric(name: str, statistic: str, period: Duration) -> cloudwatch.Metric:
            # Published without dimensions too: the statistic runs over every organisation.
            return cloudwatch.Metric(namespace=METRICS_NAMESPACE, metric_name=name, statistic=statistic, period=period)

        # An offer still unsent 5 minutes after it was due: the senders are stuck or too few.
        self._alarm(
            "OutboxAge",
            engine_metric("slotoptim_outbox_oldest_age_seconds", "Maximum", Duration.minutes(1)),
            threshold=300,
            periods=3,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="The oldest due outbox message has waited more than 5 minutes",
        )
        # Failed or undelivered messages, per minute, in the worst organisation.
        self._alarm(
            "SenderErrors",
            engine_metric("slotoptim_messages_failed_total", "Maximum", Duration.minutes(1)),
            threshold=20,
            periods=5,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="More than 20 messages a minute failed for 5 minutes (Twilio errors, bad numbers)",
        )
        # The worst organisation's 7-day fill rate under 10 %: the published audited figure is ~30 %.
        self._alarm(
            "FillRate",
            engine_metric("slotoptim_fill_rate", "Minimum", Duration.hours(1)),
            threshold=0.10,
            periods=6,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            description="An organisation's 7-day fill rate stayed below 10 % for 6 hours",
        )
        lb = services.alb.metrics
        five_xx = cloudwatch.MathExpression(
            expression="100 * (target5xx + elb5xx) / MAX([requests, 1])",
            using_metrics={
                "target5xx": lb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(1)),
                "elb5xx": lb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=Duration.minutes(1)),
                "requests": lb.request_count(period=Duration.minutes(1)),
            },
            label="5xx share of requests (%)",
            period=Duration.minutes(1),
        )
        self._alarm(
            "Api5xx",
            five_xx,
            threshold=1,
            periods=5,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="More than 1 % of API responses were 5xx for 5 minutes",
        )
        primary = database.primary
        self._alarm(
            "DatabaseCpu",
            primary.metric_cpu_utilization(period=Duration.minutes(5)),
            threshold=75,
            periods=3,
            comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            description="The primary's CPU above 75 % for 15 minutes: the first limit (docs/scaling.md)",
        )
        if database.replica is not None:
            self._alarm(
                "ReplicaLag",
                database.replica.metric("ReplicaLag", statistic="Maximum", period=Duration.minutes(1)),
                threshold=300,
                periods=5,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description="The analysts' replica is more than 5 minutes behind",
            )

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        periods: int,
        comparison: cloudwatch.ComparisonOperator,
        description: str,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            comparison_operator=comparison,
            # The outbox age is published at every scrape (0 when nothing is due): no data means the
            # API or its metrics agent is down, itself a fault. The others may rightly be absent.
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING
            if name == "OutboxAge"
            else cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm
