// Package vault protects personal data at rest: AES-256-GCM with a keyring of
// named keys. Every ciphertext is stored beside the id of the key that sealed
// it, so keys can rotate: new data is sealed with the active key while older
// keys still open what they sealed.
package vault
