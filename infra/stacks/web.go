package stacks

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/hybrid-storage/hybrid-storage/shared/hosted"
)

// responseHeaders is the SPA's response headers policy (hosted.SPAHeaders):
// its CSP, frame and referrer policy, nosniff, and HSTS.
func responseHeaders(scope constructs.Construct, connect []string) awscloudfront.IResponseHeadersPolicy {
	override := jsii.Bool(true)
	return awscloudfront.NewResponseHeadersPolicy(scope, jsii.String("SpaHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("hybrid-storage SPA: CSP, no framing, no referrer"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{
				ContentSecurityPolicy: jsii.String(hosted.CSP(connect)), Override: override,
			},
			FrameOptions: &awscloudfront.ResponseHeadersFrameOptions{
				FrameOption: awscloudfront.HeadersFrameOption(hosted.FrameOptions), Override: override,
			},
			ReferrerPolicy: &awscloudfront.ResponseHeadersReferrerPolicy{
				ReferrerPolicy: awscloudfront.HeadersReferrerPolicy(strings.ToUpper(strings.ReplaceAll(hosted.ReferrerPolicy, "-", "_"))), Override: override,
			},
			ContentTypeOptions: &awscloudfront.ResponseHeadersContentTypeOptions{Override: override},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(hosted.StrictTransportDays)),
				IncludeSubdomains:   jsii.Bool(true),
				Override:            override,
			},
		},
	})
}

// WebProps configures the web stack.
type WebProps struct {
	awscdk.StackProps
	// WebDir is the built SPA (frontend/dist). When it does not exist the
	// stack still synthesizes, with a warning, and deploys no files.
	WebDir string
	// ConnectSources are the origins the SPA talks to besides its own (the
	// hot tier, the cold tier; the API is its own origin): the connect-src
	// of its CSP.
	ConnectSources []string
	// APIURL is the HTTP API's URL (https://<id>.execute-api.<region>.amazonaws.com),
	// the origin of the distribution's hosted.APIPathPattern behavior. It is
	// known after the API stack's first deploy (make deploy passes it as
	// apiUrl); empty, the distribution serves the SPA alone, with a warning.
	APIURL string
}

// Web is the SPA: a private bucket behind CloudFront.
type Web struct {
	awscdk.Stack
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
	URL          string // https://<distribution domain>, a token until deploy
}

// NewWeb builds the web stack. The bucket is private and only CloudFront
// reads it (origin access control); unknown paths answer /index.html so the
// SPA's router handles deep links.
func NewWeb(scope constructs.Construct, id string, props *WebProps) *Web {
	stack := awscdk.NewStack(scope, jsii.String(id), &props.StackProps)
	w := &Web{Stack: stack}
	w.Bucket = awss3.NewBucket(stack, jsii.String("Site"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		// Only build output lives here: it is recreated by every deploy.
		RemovalPolicy:     awscdk.RemovalPolicy_DESTROY,
		AutoDeleteObjects: jsii.Bool(true),
	})
	// Client-side routes answer the SPA's page: a viewer-request function
	// on the default behavior only (hosted.SPARewriteFunction), so that the
	// API's own 403 and 404 reach the SPA as they are.
	rewrite := awscloudfront.NewFunction(stack, jsii.String("SpaRewrite"), &awscloudfront.FunctionProps{
		Code:    awscloudfront.FunctionCode_FromInline(jsii.String(hosted.SPARewriteFunction)),
		Runtime: awscloudfront.FunctionRuntime_JS_2_0(),
		Comment: jsii.String("hybrid-storage SPA: client-side routes to /index.html"),
	})
	behaviors := map[string]*awscloudfront.BehaviorOptions{}
	if props.APIURL != "" {
		domain := strings.TrimSuffix(strings.TrimPrefix(props.APIURL, "https://"), "/")
		behaviors[hosted.APIPathPattern] = &awscloudfront.BehaviorOptions{
			Origin: awscloudfrontorigins.NewHttpOrigin(jsii.String(domain), &awscloudfrontorigins.HttpOriginProps{
				ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
			}),
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			Compress:             jsii.Bool(false),
		}
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybrid-storage:no-api-behavior"),
			jsii.String("context apiUrl is empty: the distribution does not serve /api/* yet (make deploy deploys the web stack again with it)"), nil)
	}
	w.Distribution = awscloudfront.NewDistribution(stack, jsii.String("Cdn"), &awscloudfront.DistributionProps{
		Comment:           jsii.String("hybrid-storage SPA"),
		DefaultRootObject: jsii.String("index.html"),
		PriceClass:        awscloudfront.PriceClass_PRICE_CLASS_100,
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:                awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(w.Bucket, nil),
			ViewerProtocolPolicy:  awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:           awscloudfront.CachePolicy_CACHING_OPTIMIZED(),
			ResponseHeadersPolicy: responseHeaders(stack, props.ConnectSources),
			Compress:              jsii.Bool(true),
			FunctionAssociations: &[]*awscloudfront.FunctionAssociation{{
				Function: rewrite, EventType: awscloudfront.FunctionEventType_VIEWER_REQUEST,
			}},
		},
		AdditionalBehaviors: &behaviors,
	})
	w.URL = "https://" + *w.Distribution.DistributionDomainName()

	if st, err := os.Stat(props.WebDir); err == nil && st.IsDir() {
		awss3deployment.NewBucketDeployment(stack, jsii.String("Spa"), &awss3deployment.BucketDeploymentProps{
			Sources:           &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(props.WebDir), nil)},
			DestinationBucket: w.Bucket,
			Distribution:      w.Distribution,
			DistributionPaths: jsii.Strings("/*"),
			MemoryLimit:       jsii.Number(512),
		})
	} else {
		awscdk.Annotations_Of(stack).AddWarningV2(jsii.String("hybrid-storage:no-spa"),
			jsii.String(fmt.Sprintf("%s does not exist: the site is deployed empty (build the frontend first)", props.WebDir)), nil)
	}

	awscdk.NewCfnOutput(stack, jsii.String("SiteUrl"), &awscdk.CfnOutputProps{Value: jsii.String(w.URL)})
	awscdk.NewCfnOutput(stack, jsii.String("DistributionId"), &awscdk.CfnOutputProps{Value: w.Distribution.DistributionId()})
	return w
}
