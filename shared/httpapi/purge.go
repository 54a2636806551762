package httpapi

import "time"

// purgeBudget bounds the object removal a request does itself (API Gateway
// waits 30 s); the maintenance run finishes the rest.
const purgeBudget = 20 * time.Second
