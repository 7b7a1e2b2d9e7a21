// Package internal holds cld's implementation packages.
package internal
