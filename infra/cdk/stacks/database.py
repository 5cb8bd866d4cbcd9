"""RDS PostgreSQL 17: Multi-AZ, KMS-encrypted, TLS only, backups with point-in-time recovery,
Performance Insights, and a parameter group with the settings SlotOptim relies on; optionally a
read replica for analysts (the views and /v1/gaps/analyze read there, see docs/scaling.md)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from constructs import Construct

ENGINE = rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17)
DATABASE_NAME = "slotoptim"
MASTER_USER = "slotoptim_owner"

# What SlotOptim relies on, and why.
PRIMARY_PARAMETERS = {
    # Every connection is TLS (HIPAA: encryption in transit), and only TLS 1.3.
    "rds.force_ssl": "1",
    "ssl_min_protocol_version": "TLSv1.3",
    # Analyst logins (slotoptim.create_analyst_login) get SCRAM passwords.
    "password_encryption": "scram-sha-256",
    # Gap and claim functions take `at timestamptz default now()`; reports read in UTC.
    "timezone": "UTC",
    # The cost per gap query, claim and offer (docs/scaling.md) is watched in pg_stat_statements.
    "shared_preload_libraries": "pg_stat_statements",
    # A claim holds row locks for milliseconds; a stuck session must not hold them for long.
    "idle_in_transaction_session_timeout": "60000",
    # No JIT: the set-returning functions' cost estimates pass its thresholds on queries of a few
    # dozen rows, and compiling took seconds where running takes milliseconds (migration 0014
    # turns it off per database too; docs/scaling.md).
    "jit": "0",
    # The outbox and offers are claimed with SKIP LOCKED; waiting on a lock longer than this is a bug.
    "deadlock_timeout": "1000",
    "log_lock_waits": "1",
    "log_min_duration_statement": "500",
    # Connections (HIPAA audit) and DDL are logged; statement text is not (it may hold phone numbers).
    "log_connections": "1",
    "log_disconnections": "1",
    "log_statement": "ddl",
}

# The analysts' replica: long reports may run while the primary vacuums; feedback keeps the rows
# they read, and a long standby delay lets a report finish rather than be cancelled.
REPLICA_PARAMETERS = {
    **PRIMARY_PARAMETERS,
    "hot_standby_feedback": "1",
    "max_standby_streaming_delay": "300000",
    "statement_timeout": "600000",
}


class Database(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        key: kms.IKey,
        instance_class: str,
        analyst_replica: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        instance_type = ec2.InstanceType(instance_class)
        self.security_group = ec2.SecurityGroup(
            self, "Sg", vpc=vpc, allow_all_outbound=False, description="SlotOptim PostgreSQL"
        )
        self.parameter_group = rds.ParameterGroup(
            self, "Parameters", engine=ENGINE, description="SlotOptim primary", parameters=PRIMARY_PARAMETERS
        )
        isolated = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
        self.primary = rds.DatabaseInstance(
            self,
            "Primary",
            engine=ENGINE,
            instance_type=instance_type,
            vpc=vpc,
            vpc_subnets=isolated,
            security_groups=[self.security_group],
            database_name=DATABASE_NAME,
            credentials=rds.Credentials.from_generated_secret(MASTER_USER, encryption_key=key),
            parameter_group=self.parameter_group,
            multi_az=True,
            storage_encrypted=True,
            storage_encryption_key=key,
            storage_type=rds.StorageType.GP3,
            allocated_storage=200,
            max_allocated_storage=2000,
            # Automated backups give point-in-time recovery over the whole retention window.
            backup_retention=Duration.days(35),
            delete_automated_backups=False,
            copy_tags_to_snapshot=True,
            deletion_protection=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
            enable_performance_insights=True,
            performance_insight_encryption_key=key,
            performance_insight_retention=rds.PerformanceInsightRetention.MONTHS_1,
            monitoring_interval=Duration.seconds(30),
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            cloudwatch_logs_retention=logs.RetentionDays.ONE_YEAR,
            auto_minor_version_upgrade=True,
            publicly_accessible=False,
            iam_authentication=True,
        )
        # The owner's password changes every 30 days; tasks read it at start from Secrets Manager.
        self.primary.add_rotation_single_user(automatically_after=Duration.days(30))
        self.secret = self.primary.secret
        # AWS Backup keeps daily snapshots for 35 days in a vault under the same key, apart from
        # RDS's own automated backups (which give point-in-time recovery).
        vault = backup.BackupVault(self, "Vault", encryption_key=key, removal_policy=RemovalPolicy.RETAIN)
        plan = backup.BackupPlan.daily35_day_retention(self, "BackupPlan", vault)
        plan.add_selection("Primary", resources=[backup.BackupResource.from_rds_database_instance(self.primary)])
        self.replica: rds.DatabaseInstanceReadReplica | None = None
        if analyst_replica:
            self.replica = rds.DatabaseInstanceReadReplica(
                self,
                "AnalystReplica",
                source_database_instance=self.primary,
                instance_type=instance_type,
                vpc=vpc,
                vpc_subnets=isolated,
                security_groups=[self.security_group],
                parameter_group=rds.ParameterGroup(
                    self,
                    "ReplicaParameters",
                    engine=ENGINE,
                    description="SlotOptim analysts' replica",
                    parameters=REPLICA_PARAMETERS,
                ),
                # Encrypted with the primary's key: a replica inherits its source's storage encryption.
                # A replica of a Multi-AZ primary: if it is lost, analysts wait; no booking does.
                multi_az=False,
                deletion_protection=True,
                removal_policy=RemovalPolicy.DESTROY,
                enable_performance_insights=True,
                performance_insight_encryption_key=key,
                monitoring_interval=Duration.seconds(30),
                cloudwatch_logs_exports=["postgresql"],
                cloudwatch_logs_retention=logs.RetentionDays.ONE_YEAR,
                auto_minor_version_upgrade=True,
                publicly_accessible=False,
            )
