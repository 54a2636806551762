package httpapi

// Route is one endpoint of the API: the ServeMux pattern and the Lambda
// function (a directory under functions/) that serves it on AWS.
type Route struct {
	Function string // functions/<Function>/main.go serves this route on Lambda
	Method   string
	Path     string // Go 1.22 ServeMux path, wildcards as {name}
	Auth     bool   // true when a user's bearer token is required
}

// Pattern is the ServeMux pattern "METHOD /path".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Routes is the whole API table. The local server mounts every route, each
// Lambda function mounts its own, and the CDK app and SAM template are tested
// against it.
var Routes = []Route{
	{Function: "healthz", Method: "GET", Path: "/healthz"},
	{Function: "readyz", Method: "GET", Path: "/readyz"},
	{Function: "config", Method: "GET", Path: "/api/config"},
	{Function: "openapi", Method: "GET", Path: "/api/openapi.json"},
	{Function: "signup", Method: "POST", Path: "/api/auth/signup"},
	{Function: "login", Method: "POST", Path: "/api/auth/login"},
	{Function: "me", Method: "GET", Path: "/api/auth/me", Auth: true},
	{Function: "upload", Method: "POST", Path: "/api/files/upload", Auth: true},
	{Function: "list-files", Method: "GET", Path: "/api/files", Auth: true},
	{Function: "get-file", Method: "GET", Path: "/api/files/{id}", Auth: true},
	{Function: "download", Method: "GET", Path: "/api/files/{id}/download", Auth: true},
	{Function: "delete-file", Method: "DELETE", Path: "/api/files/{id}", Auth: true},
	{Function: "sync", Method: "POST", Path: "/api/sync/run"}, // operator token (SYNC_TRIGGER_TOKEN), checked by the handler
	{Function: "sync-status", Method: "GET", Path: "/api/sync/status", Auth: true},
	{Function: "create-upload", Method: "POST", Path: "/api/files/uploads", Auth: true},
	{Function: "complete-upload", Method: "POST", Path: "/api/files/uploads/{upload_id}/complete", Auth: true},
	{Function: "abort-upload", Method: "DELETE", Path: "/api/files/uploads/{upload_id}", Auth: true},
	{Function: "get-upload", Method: "GET", Path: "/api/files/uploads/{upload_id}", Auth: true},
	{Function: "list-trash", Method: "GET", Path: "/api/trash", Auth: true},
	{Function: "restore-file", Method: "POST", Path: "/api/trash/{id}/restore", Auth: true},
	{Function: "purge-file", Method: "DELETE", Path: "/api/trash/{id}", Auth: true},
	{Function: "empty-trash", Method: "DELETE", Path: "/api/trash", Auth: true},
	{Function: "delete-account", Method: "DELETE", Path: "/api/auth/me", Auth: true}, // {password}; rate-limited like login
	{Function: "usage", Method: "GET", Path: "/api/usage", Auth: true},
	{Function: "create-share", Method: "POST", Path: "/api/files/{id}/shares", Auth: true},
	{Function: "list-shares", Method: "GET", Path: "/api/files/{id}/shares", Auth: true},
	{Function: "revoke-share", Method: "DELETE", Path: "/api/shares/{share_id}", Auth: true},
	{Function: "public-share", Method: "GET", Path: "/api/public/shares/{token}"},             // the token is the credential
	{Function: "download-share", Method: "POST", Path: "/api/public/shares/{token}/download"}, // {password?}; rate-limited per share and client
}
