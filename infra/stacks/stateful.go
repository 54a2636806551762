package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsrds"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// Logical IDs of the stateful resources. They are pinned so that a refactor
// of the construct tree never makes CloudFormation replace (and, for the
// bucket and the database, orphan) a resource holding data. Tests pin them.
const (
	ColdBucketID             = "ColdBucket"
	SecretKeySecretID        = "SecretKeySecret"
	MinioCredentialsSecretID = "MinioCredentialsSecret"
	DatabaseURLSecretID      = "DatabaseUrlSecret"
	SyncTriggerTokenSecretID = "SyncTriggerTokenSecret"
	SMTPURLSecretID          = "SmtpUrlSecret"
	DatabaseID               = "Database"
	DatabaseSecretID         = "DatabaseCredentialsSecret"
)

// StatefulProps configures the stateful stack.
type StatefulProps struct {
	awscdk.StackProps

	// ColdBucketName is the physical name of the cold-tier bucket; empty lets
	// CloudFormation choose one.
	ColdBucketName string

	// CORSOrigins are the SPA's origins: the cold bucket's CORS
	// (hosted.ColdBucketCORS) lets browsers there GET presigned URLs.
	CORSOrigins []string

	// CreateDatabase creates an RDS PostgreSQL instance in a new VPC; the
	// functions are then placed in that VPC. Off by default: the database
	// URL comes from DatabaseURLSecretARN or from the secret this stack
	// creates and the operator fills in.
	CreateDatabase bool

	// DatabaseURLSecretARN is the complete ARN of an existing secret whose
	// value is the PostgreSQL URL. Ignored when CreateDatabase is set.
	DatabaseURLSecretARN string

	// MinioCredentialsSecretARN is the complete ARN of an existing secret
	// holding {"accessKey": ..., "secretKey": ...} for the hot tier. Empty
	// creates one that the operator fills in.
	MinioCredentialsSecretARN string

	// SMTPURLSecretARN is the complete ARN of an existing secret holding
	// SMTP_URL (SES's SMTP interface). Empty creates one holding "none"
	// (no mail) that the operator fills in.
	SMTPURLSecretARN string
}

// Stateful holds what the other stacks need from the stateful stack.
type Stateful struct {
	awscdk.Stack

	ColdBucket awss3.Bucket

	// Secrets read by the functions at cold start (their ARNs are passed as
	// *_SECRET_ARN environment variables).
	SecretKey        awssecretsmanager.ISecret // plain string, ≥ 32 bytes
	MinioCredentials awssecretsmanager.ISecret // JSON {"accessKey","secretKey"}
	DatabaseURL      awssecretsmanager.ISecret // plain URL, or RDS JSON when CreateDatabase
	SyncTriggerToken awssecretsmanager.ISecret // plain string
	SMTPURL          awssecretsmanager.ISecret // plain smtp:// URL, or "none"

	// Set only when CreateDatabase: the functions join Vpc with AppSecurityGroup,
	// which may reach Database on its port.
	Vpc              awsec2.IVpc
	AppSecurityGroup awsec2.ISecurityGroup
	Database         awsrds.DatabaseInstance
}

// NewStateful builds the stateful stack. Every resource in it is retained
// when the stack is deleted.
func NewStateful(scope constructs.Construct, id string, props *StatefulProps) *Stateful {
	if props == nil {
		props = &StatefulProps{}
	}
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	s := &Stateful{Stack: stack}

	bucketProps := &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				Id:                                  jsii.String("abort-incomplete-multipart-uploads"),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			},
			{
				// Versioning protects against a buggy delete; old versions
				// should not be kept (and paid for) forever.
				Id:                          jsii.String("expire-noncurrent-versions"),
				NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(30)),
			},
		},
	}
	if props.ColdBucketName != "" {
		bucketProps.BucketName = jsii.String(props.ColdBucketName)
	}
	if len(props.CORSOrigins) > 0 {
		bucketProps.Cors = corsRules(hosted.ColdBucketCORS(props.CORSOrigins))
	}
	s.ColdBucket = awss3.NewBucket(stack, jsii.String("ColdTier"), bucketProps)
	pin(s.ColdBucket, ColdBucketID)

	s.SecretKey = newSecret(stack, "SecretKey", SecretKeySecretID,
		"JWT signing key (SECRET_KEY) of hybrid-storage", &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(64),
			ExcludePunctuation: jsii.Bool(true),
		})
	s.SyncTriggerToken = newSecret(stack, "SyncTriggerToken", SyncTriggerTokenSecretID,
		"Operator token for POST /api/sync/run (SYNC_TRIGGER_TOKEN) of hybrid-storage", &awssecretsmanager.SecretStringGenerator{
			PasswordLength:     jsii.Number(48),
			ExcludePunctuation: jsii.Bool(true),
		})

	if props.MinioCredentialsSecretARN != "" {
		s.MinioCredentials = awssecretsmanager.Secret_FromSecretCompleteArn(stack,
			jsii.String("MinioCredentials"), jsii.String(props.MinioCredentialsSecretARN))
	} else {
		// The access key is a placeholder and the secret key a random value:
		// the operator replaces both with the MinIO server's credentials.
		s.MinioCredentials = newSecret(stack, "MinioCredentials", MinioCredentialsSecretID,
			`Hot-tier (MinIO) credentials of hybrid-storage: JSON {"accessKey","secretKey"}; replace the generated value`,
			&awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String(`{"accessKey":"REPLACE_ME"}`),
				GenerateStringKey:    jsii.String("secretKey"),
				ExcludePunctuation:   jsii.Bool(true),
			})
	}

	if props.SMTPURLSecretARN != "" {
		s.SMTPURL = awssecretsmanager.Secret_FromSecretCompleteArn(stack, jsii.String("SmtpUrl"), jsii.String(props.SMTPURLSecretARN))
	} else {
		// {"url": "none"}: mail stays off until the operator puts SES's
		// SMTP URL here (docs/deploy.md). No value in the template.
		s.SMTPURL = newSecret(stack, "SmtpUrl", SMTPURLSecretID,
			`SMTP_URL of hybrid-storage's password reset mail: smtp://USER:PASSWORD@email-smtp.REGION.amazonaws.com:587 (SES's SMTP interface), as the plain URL or JSON {"url": "..."}; "none" = no mail`,
			&awssecretsmanager.SecretStringGenerator{
				SecretStringTemplate: jsii.String(`{"url":"none"}`),
				GenerateStringKey:    jsii.String("unused"),
				ExcludePunctuation:   jsii.Bool(true),
			})
	}

	switch {
	case props.CreateDatabase:
		s.createDatabase(stack)
	case props.DatabaseURLSecretARN != "":
		s.DatabaseURL = awssecretsmanager.Secret_FromSecretCompleteArn(stack,
			jsii.String("DatabaseUrl"), jsii.String(props.DatabaseURLSecretARN))
	default:
		// A placeholder the operator replaces with the real
		// postgres://user:password@host:5432/db?sslmode=require URL.
		s.DatabaseURL = newSecret(stack, "DatabaseUrl", DatabaseURLSecretID,
			"PostgreSQL URL (DATABASE_URL) of hybrid-storage; replace the generated value",
			&awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(32), ExcludePunctuation: jsii.Bool(true)})
	}

	awscdk.NewCfnOutput(stack, jsii.String("ColdBucketName"), &awscdk.CfnOutputProps{Value: s.ColdBucket.BucketName()})
	awscdk.NewCfnOutput(stack, jsii.String("SecretKeySecretArn"), &awscdk.CfnOutputProps{Value: s.SecretKey.SecretArn()})
	awscdk.NewCfnOutput(stack, jsii.String("MinioCredentialsSecretArn"), &awscdk.CfnOutputProps{Value: s.MinioCredentials.SecretArn()})
	awscdk.NewCfnOutput(stack, jsii.String("DatabaseUrlSecretArn"), &awscdk.CfnOutputProps{Value: s.DatabaseURL.SecretArn()})
	awscdk.NewCfnOutput(stack, jsii.String("SyncTriggerTokenSecretArn"), &awscdk.CfnOutputProps{Value: s.SyncTriggerToken.SecretArn()})
	awscdk.NewCfnOutput(stack, jsii.String("SmtpUrlSecretArn"), &awscdk.CfnOutputProps{Value: s.SMTPURL.SecretArn()})
	return s
}

// createDatabase adds a small PostgreSQL instance in private subnets of a new
// VPC, and the security group the functions use to reach it. Its generated
// secret (RDS JSON: host, port, username, password, dbname) is DatabaseURL.
func (s *Stateful) createDatabase(stack awscdk.Stack) {
	vpc := awsec2.NewVpc(stack, jsii.String("Vpc"), &awsec2.VpcProps{
		MaxAzs:      jsii.Number(2),
		NatGateways: jsii.Number(1), // the functions reach MinIO and AWS APIs through it
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("app"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(24)},
			{Name: jsii.String("data"), SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED, CidrMask: jsii.Number(24)},
		},
	})
	app := awsec2.NewSecurityGroup(stack, jsii.String("AppSecurityGroup"), &awsec2.SecurityGroupProps{
		Vpc:         vpc,
		Description: jsii.String("hybrid-storage Lambda functions"),
	})
	db := awsrds.NewDatabaseInstance(stack, jsii.String("Postgres"), &awsrds.DatabaseInstanceProps{
		Engine: awsrds.DatabaseInstanceEngine_Postgres(&awsrds.PostgresInstanceEngineProps{
			// A full version: creating with a major version only is refused
			// in some regions. Minor upgrades are a change here, not a
			// surprise (CloudFormation cannot follow an automatic one).
			Version: awsrds.PostgresEngineVersion_VER_17_6(),
		}),
		AutoMinorVersionUpgrade: jsii.Bool(false),
		InstanceType:            awsec2.InstanceType_Of(awsec2.InstanceClass_BURSTABLE4_GRAVITON, awsec2.InstanceSize_MICRO),
		Vpc:                     vpc,
		VpcSubnets:              &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_ISOLATED},
		DatabaseName:            jsii.String("hybrid_storage"),
		Credentials:             awsrds.Credentials_FromGeneratedSecret(jsii.String("hybrid_storage"), nil),
		AllocatedStorage:        jsii.Number(20),
		MaxAllocatedStorage:     jsii.Number(100),
		StorageEncrypted:        jsii.Bool(true),
		BackupRetention:         awscdk.Duration_Days(jsii.Number(7)),
		DeletionProtection:      jsii.Bool(true),
		RemovalPolicy:           awscdk.RemovalPolicy_RETAIN,
	})
	pin(db, DatabaseID)
	db.Connections().AllowDefaultPortFrom(app, jsii.String("hybrid-storage functions"))
	s.Database = db
	s.DatabaseURL = db.Secret()
	pin(db.Node().FindChild(jsii.String("Secret")), DatabaseSecretID) // the generated secret, not its attachment
	s.Vpc = vpc
	s.AppSecurityGroup = app
}

// corsRules turns the table's CORS rules into the bucket's.
func corsRules(rules []hosted.CORS) *[]*awss3.CorsRule {
	out := make([]*awss3.CorsRule, len(rules))
	for i, r := range rules {
		methods := make([]awss3.HttpMethods, len(r.AllowedMethods))
		for j, m := range r.AllowedMethods {
			methods[j] = awss3.HttpMethods(m)
		}
		out[i] = &awss3.CorsRule{
			AllowedOrigins: jsii.Strings(r.AllowedOrigins...),
			AllowedMethods: &methods,
			AllowedHeaders: jsii.Strings(r.AllowedHeaders...),
			ExposedHeaders: jsii.Strings(r.ExposeHeaders...),
			MaxAge:         jsii.Number(float64(r.MaxAgeSeconds)),
		}
	}
	return &out
}

// newSecret creates a retained secret with a generated value and a pinned
// logical ID. No secret value ever appears in the template.
func newSecret(scope constructs.Construct, id, logicalID, description string, gen *awssecretsmanager.SecretStringGenerator) awssecretsmanager.Secret {
	s := awssecretsmanager.NewSecret(scope, jsii.String(id), &awssecretsmanager.SecretProps{
		Description:          jsii.String(description),
		GenerateSecretString: gen,
		RemovalPolicy:        awscdk.RemovalPolicy_RETAIN,
	})
	pin(s, logicalID)
	return s
}

// pin fixes the CloudFormation logical ID of c's default (L1) child.
func pin(c constructs.IConstruct, logicalID string) {
	c.Node().DefaultChild().(awscdk.CfnElement).OverrideLogicalId(jsii.String(logicalID))
}
