"""ElastiCache Redis: the claim holds (a politeness layer; the database decides). TLS in transit,
an auth token from Secrets Manager, KMS at rest, a replica in the second AZ with failover."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

REDIS_PORT = 6379


class Cache(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, vpc: ec2.IVpc, key: kms.IKey) -> None:
        super().__init__(scope, construct_id)
        # Letters and digits only: the container's entry point puts it in a URL unescaped, and
        # ElastiCache refuses some punctuation in auth tokens.
        self.auth_token = secretsmanager.Secret(
            self,
            "AuthToken",
            description="SlotOptim Redis AUTH token",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=64),
        )
        self.security_group = ec2.SecurityGroup(
            self, "Sg", vpc=vpc, allow_all_outbound=False, description="SlotOptim Redis"
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "Subnets",
            description="SlotOptim Redis",
            subnet_ids=vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED).subnet_ids,
        )
        self.group = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="SlotOptim claim holds",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.r7g.large",
            num_cache_clusters=2,
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            at_rest_encryption_enabled=True,
            kms_key_id=key.key_id,
            # A CloudFormation dynamic reference: the token never appears in the template.
            auth_token=self.auth_token.secret_value.unsafe_unwrap(),
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[self.security_group.security_group_id],
            port=REDIS_PORT,
            snapshot_retention_limit=15,
            auto_minor_version_upgrade=True,
        )
        self.group.node.add_dependency(subnets)
        self.host = self.group.attr_primary_end_point_address
