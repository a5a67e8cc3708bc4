// The stream replica from TypeScript: a Kinesis stream in the prod account replicated into a
// DynamoDB table in the analytics account, the table archived to S3. See README.md.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as streamReplica from "@pulumi/stream-replica";

const config = new pulumi.Config();
const region = config.require("region");
const prodAccountId = config.require("prodAccountId");
const analyticsAccountId = config.require("analyticsAccountId");
const streamName = config.require("streamName");

// One provider per account.
const prod = new aws.Provider("prod", { region, allowedAccountIds: [prodAccountId] });
const analytics = new aws.Provider("analytics", {
    region,
    allowedAccountIds: [analyticsAccountId],
    assumeRoles: [{ roleArn: config.require("analyticsDeployRoleArn") }],
});

const replica = new streamReplica.CrossAccountStreamReplica("clicks", {
    source: {
        accountId: prodAccountId,
        region,
        sourceStreamName: streamName,
        externalId: "clicks-replica",
        // Partial settings merge over the component's defaults (here: 512 MB -> 1024 MB).
        function: { memorySize: 1024 },
        mapping: { batchSize: 500, parallelizationFactor: 2 },
    },
    target: {
        tableName: "clicks-replica",
        secondaryIndexes: [{ name: "by-user", hashKey: "userId", rangeKey: "timestamp" }],
    },
    sourceProvider: prod,
    targetProvider: analytics,
    tags: { pipeline: "clicks" },
});

// accountId and region accept Outputs: here the analytics account as its credentials see it.
const analyticsIdentity = aws.getCallerIdentityOutput({}, { provider: analytics });
const archive = new streamReplica.StreamToS3Archiver(
    "clicks-archive",
    {
        tableStreamArn: replica.tableStreamArn,
        accountId: analyticsIdentity.accountId,
        region,
        prefix: "clicks/",
        compression: "GZIP",
        lifecycleRules: [{ id: "archive", transitionDays: 30, expirationDays: 730 }],
    },
    { provider: analytics },
);

export const tableName = replica.tableName;
export const replicatorFunction = replica.functionName;
export const replicatorRoleArn = replica.replicatorRoleArn;
export const bucketName = archive.bucketName;
