module github.com/hybrid-storage/hybrid-storage

go 1.26
