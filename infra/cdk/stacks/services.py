"""ECS Fargate on ARM64 (Graviton): the API behind an HTTPS load balancer, the fill engine
(N replicas: the outbox and offers are claimed with SKIP LOCKED, so replicas never send twice),
and the one-off `slotoptim migrate` task, started on every deploy before the services update.

One image (infra/Dockerfile) runs all three by command. Credentials reach the containers from
Secrets Manager at task start (the task definition names the secret, never the value)."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import custom_resources as cr
from constructs import Construct

from stacks.cache import REDIS_PORT, Cache
from stacks.config import StackConfig
from stacks.database import DATABASE_NAME, Database
from stacks.secrets import VendorSecrets

REPO_ROOT = Path(__file__).resolve().parents[3]
API_PORT = 8000
RDS_CA_BUNDLE = "/etc/ssl/certs/rds-global-bundle.pem"  # put into the image by infra/Dockerfile
# Requests a minute one API task (1 vCPU) is given before the load balancer adds tasks: 100 a
# second, about 60 % of the ~160/s per vCPU that tests/bench/api_bench.py measured for
# /v1/gaps/analyze (docs/scaling.md has the arithmetic).
REQUESTS_PER_TASK_PER_MINUTE = 6_000
METRICS_NAMESPACE = "SlotOptim"
# The Prometheus figures the alarms watch (api/metrics.py), sent to CloudWatch by the agent beside
# each API task. Each is published per organisation and once without dimensions (all organisations).
ALARMED_METRICS = (
    "slotoptim_fill_rate",
    "slotoptim_outbox_oldest_age_seconds",
    "slotoptim_messages_failed_total",
    "slotoptim_http_requests_total",
)
CLOUDWATCH_AGENT_IMAGE = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300051.0b992"


def _agent_config(log_group: str) -> tuple[str, str]:
    """The CloudWatch agent's own configuration and its Prometheus scrape configuration."""
    scrape = (
        "global:\n  scrape_interval: 60s\n  scrape_timeout: 10s\n"
        "scrape_configs:\n  - job_name: slotoptim\n    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{API_PORT}']\n"
    )
    agent = {
        "logs": {
            "metrics_collected": {
                "prometheus": {
                    "log_group_name": log_group,
                    "prometheus_config_path": "env:PROMETHEUS_CONFIG_CONTENT",
                    "emf_processor": {
                        "metric_namespace": METRICS_NAMESPACE,
                        "metric_declaration": [
                            {
                                "source_labels": ["job"],
                                "label_matcher": "^slotoptim$",
                                "dimensions": [["org"], []],
                                "metric_selectors": [f"^{name}$" for name in ALARMED_METRICS],
                            }
                        ],
                    },
                }
            },
            "force_flush_interval": 5,
        }
    }
    return json.dumps(agent), scrape


class Services(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        vpc: ec2.IVpc,
        key: kms.IKey,
        database: Database,
        cache: Cache,
        vendors: VendorSecrets,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENHANCED)
        self.image = (
            ecs.ContainerImage.from_registry(config.image)
            if config.image
            else ecs.ContainerImage.from_asset(
                str(REPO_ROOT), file="infra/Dockerfile", platform=ecr_assets.Platform.LINUX_ARM64
            )
        )
        # SlotOptim writes one JSON object per line (api/logs.py); CloudWatch Logs Insights reads it as is.
        self.log_group = logs.LogGroup(
            self, "Logs", encryption_key=key, retention=logs.RetentionDays.ONE_YEAR, removal_policy=RemovalPolicy.RETAIN
        )
        self.metrics_log_group = logs.LogGroup(
            self, "MetricsLogs", encryption_key=key, retention=logs.RetentionDays.ONE_MONTH
        )
        self.tasks_sg = ec2.SecurityGroup(self, "TasksSg", vpc=vpc, description="SlotOptim tasks")
        database.security_group.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(5432), "SlotOptim tasks")
        cache.security_group.add_ingress_rule(self.tasks_sg, ec2.Port.tcp(REDIS_PORT), "SlotOptim tasks")

        assert database.secret is not None
        self.environment = {
            # libpq takes host, port, user and password from the PG* variables.
            "DATABASE_URL": f"postgresql:///{DATABASE_NAME}",
            "PGHOST": database.primary.db_instance_endpoint_address,
            "PGPORT": database.primary.db_instance_endpoint_port,
            "PGSSLMODE": "verify-full",
            "PGSSLROOTCERT": RDS_CA_BUNDLE,
            "REDIS_HOST": cache.host,
            "REDIS_PORT": str(REDIS_PORT),
            "SLOTOPTIM_PUBLIC_URL": config.public_url,
            "SLOTOPTIM_STATUS_CALLBACK_URL": f"{config.public_url}/webhooks/twilio/status",
            "TWILIO_FROM": config.twilio_from,
        }
        self.secrets = {
            "PGUSER": ecs.Secret.from_secrets_manager(database.secret, "username"),
            "PGPASSWORD": ecs.Secret.from_secrets_manager(database.secret, "password"),
            "REDIS_AUTH_TOKEN": ecs.Secret.from_secrets_manager(cache.auth_token),
            **vendors.env,
        }

        self.api_task = self._task("Api", ["api", "--host", "0.0.0.0", "--port", str(API_PORT)], cpu=1024, memory=2048)
        api = self.api_task.default_container
        assert api is not None
        api.add_port_mappings(ecs.PortMapping(container_port=API_PORT))
        self._add_metrics_agent(self.api_task)
        self.engine_task = self._task("Engine", ["run", "--no-api"], cpu=1024, memory=2048, health=False)
        self.migrate_task = self._task("Migrate", ["migrate"], cpu=512, memory=1024, health=False)

        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        migrate_run = self._run_migrate_on_deploy(vpc, private)

        self.api_service = ecs.FargateService(
            self,
            "ApiService",
            cluster=self.cluster,
            task_definition=self.api_task,
            desired_count=config.api_min_tasks,
            vpc_subnets=private,
            security_groups=[self.tasks_sg],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            health_check_grace_period=Duration.seconds(120),
        )
        self.engine_service = ecs.FargateService(
            self,
            "EngineService",
            cluster=self.cluster,
            task_definition=self.engine_task,
            desired_count=config.engine_replicas,
            vpc_subnets=private,
            security_groups=[self.tasks_sg],
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
        )
        for service in (self.api_service, self.engine_service):
            service.node.add_dependency(migrate_run)

        self._load_balancer(config, vpc, key)
        scaling = self.api_service.auto_scale_task_count(
            min_capacity=config.api_min_tasks, max_capacity=config.api_max_tasks
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=60)
        scaling.scale_on_request_count(
            "Requests", requests_per_target=REQUESTS_PER_TASK_PER_MINUTE, target_group=self.target_group
        )

    def _task(
        self, name: str, command: list[str], *, cpu: int, memory: int, health: bool = True
    ) -> ecs.FargateTaskDefinition:
        task = ecs.FargateTaskDefinition(
            self,
            f"{name}Task",
            cpu=cpu,
            memory_limit_mib=memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_container(
            name.lower(),
            image=self.image,
            command=command,
            environment=self.environment,
            secrets=self.secrets,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=name.lower(), log_group=self.log_group, mode=ecs.AwsLogDriverMode.NON_BLOCKING
            ),
            health_check=ecs.HealthCheck(
                command=["CMD", "slotoptim-healthcheck"],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                start_period=Duration.seconds(60),
                retries=3,
            )
            if health
            else None,
            stop_timeout=Duration.seconds(60),  # SIGTERM: finish the requests and the engine pass in flight
            readonly_root_filesystem=False,
            user="10001",
        )
        return task

    def _add_metrics_agent(self, task: ecs.FargateTaskDefinition) -> None:
        agent_config, scrape_config = _agent_config(self.metrics_log_group.log_group_name)
        task.add_container(
            "cloudwatch-agent",
            image=ecs.ContainerImage.from_registry(CLOUDWATCH_AGENT_IMAGE),
            essential=False,
            cpu=64,
            memory_limit_mib=128,
            environment={"CW_CONFIG_CONTENT": agent_config, "PROMETHEUS_CONFIG_CONTENT": scrape_config},
            logging=ecs.LogDrivers.aws_logs(stream_prefix="cloudwatch-agent", log_group=self.log_group),
        )
        self.metrics_log_group.grant_write(task.task_role)
        task.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],  # PutMetricData has no resource-level permissions; the condition narrows it
                conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
            )
        )

    def _run_migrate_on_deploy(self, vpc: ec2.IVpc, private: ec2.SubnetSelection) -> cr.AwsCustomResource:
        """`slotoptim migrate` as a one-off task whenever its task definition changes (a new image).
        The services wait for this resource; every SlotOptim process also migrates at start under
        one advisory lock, so a task that starts before the one-off finishes waits for it."""
        call = cr.AwsSdkCall(
            service="ECS",
            action="runTask",
            parameters={
                "cluster": self.cluster.cluster_arn,
                "taskDefinition": self.migrate_task.task_definition_arn,
                "launchType": "FARGATE",
                "startedBy": "slotoptim-deploy",
                "networkConfiguration": {
                    "awsvpcConfiguration": {
                        "subnets": vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids,
                        "securityGroups": [self.tasks_sg.security_group_id],
                        "assignPublicIp": "DISABLED",
                    }
                },
            },
            physical_resource_id=cr.PhysicalResourceId.of(self.migrate_task.task_definition_arn),
        )
        roles = [self.migrate_task.task_role.role_arn]
        if self.migrate_task.execution_role is not None:
            roles.append(self.migrate_task.execution_role.role_arn)
        return cr.AwsCustomResource(
            self,
            "MigrateOnDeploy",
            on_create=call,
            on_update=call,
            install_latest_aws_sdk=False,
            vpc=vpc,
            vpc_subnets=private,
            policy=cr.AwsCustomResourcePolicy.from_statements(
                [
                    iam.PolicyStatement(actions=["ecs:RunTask"], resources=[self.migrate_task.task_definition_arn]),
                    iam.PolicyStatement(actions=["iam:PassRole"], resources=roles),
                ]
            ),
        )

    def _load_balancer(self, config: StackConfig, vpc: ec2.IVpc, key: kms.IKey) -> None:
        # ALB access logs: S3-managed encryption is the only kind the load balancer can write.
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            removal_policy=RemovalPolicy.RETAIN,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))],
        )
        self.alb = elbv2.ApplicationLoadBalancer(
            self,
            "Alb",
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            deletion_protection=True,
            drop_invalid_header_fields=True,
        )
        self.alb.log_access_logs(self.access_logs, prefix="alb")
        self.alb.add_redirect(source_port=80, target_port=443)
        self.https = self.alb.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(config.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.TLS13_13 if config.tls13_only else elbv2.SslPolicy.TLS13_RES,
        )
        self.target_group = self.https.add_targets(
            "Api",
            port=API_PORT,
            protocol=elbv2.ApplicationProtocol.HTTP,
            targets=[self.api_service],
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path="/readyz", healthy_http_codes="200", interval=Duration.seconds(15), healthy_threshold_count=2
            ),
        )
