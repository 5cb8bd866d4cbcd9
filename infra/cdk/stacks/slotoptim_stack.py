"""SlotOptim's production stack: network, database, Redis, secrets, services and alarms."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.alarms import Alarms
from stacks.cache import Cache
from stacks.config import StackConfig
from stacks.database import Database
from stacks.network import Network
from stacks.secrets import VendorSecrets
from stacks.services import Services
from stacks.suppressions import suppress_reviewed_findings


class SlotOptimStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # One customer-managed key for everything at rest: database, snapshots, Performance
        # Insights, Redis, secrets, logs and the alarm topic. Rotated yearly by KMS.
        self.key = kms.Key(
            self,
            "DataKey",
            description="SlotOptim data at rest",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
        )
        # CloudWatch Logs encrypts log groups with this key only when the service may use it.
        self.key.grant_encrypt_decrypt(_logs_principal(self))
        self.network = Network(self, "Network", key=self.key)
        self.database = Database(
            self,
            "Database",
            vpc=self.network.vpc,
            key=self.key,
            instance_class=config.db_instance_class,
            analyst_replica=config.analyst_replica,
        )
        self.cache = Cache(self, "Cache", vpc=self.network.vpc, key=self.key)
        self.vendors = VendorSecrets(self, "Vendors", key=self.key)
        self.services = Services(
            self,
            "Services",
            config=config,
            vpc=self.network.vpc,
            key=self.key,
            database=self.database,
            cache=self.cache,
            vendors=self.vendors,
        )
        self.alarms = Alarms(
            self,
            "Alarms",
            key=self.key,
            services=self.services,
            database=self.database,
            email=config.alarm_email,
        )
        CfnOutput(self, "ApiUrl", value=config.public_url)
        CfnOutput(self, "LoadBalancerDns", value=self.services.alb.load_balancer_dns_name)
        if self.database.replica is not None:
            CfnOutput(self, "AnalystEndpoint", value=self.database.replica.db_instance_endpoint_address)
        suppress_reviewed_findings(self)


def _logs_principal(stack: Stack) -> Any:
    from aws_cdk import aws_iam as iam

    return iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")
