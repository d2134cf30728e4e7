// The value the offline plan puts where the stack file holds a `secure:` value it cannot decrypt
// (no PULUMI_CONFIG_PASSPHRASE, or a cloud secrets provider). `pulumi up` always hands the program
// the decrypted value, so this marker only ever exists offline; config checks that need the value
// recognise it and say the value is checked at deploy instead of reporting it missing or malformed.
//
// It is a string because a config value reaches the program as JSON text
// (`pulumi.runtime.setAllConfig`): an object marker would not survive where a string is expected.

/** Stands in for a secret the offline plan could not decrypt. */
export const UNDECRYPTED_SECRET = "[secret, set in stack config]";

/** What the plan and the checks print for such a value. */
export const UNDECRYPTED_SECRET_NOTE = "secret, set in stack config; checked at deploy";

/** True for the offline plan's stand-in of a secret it could not decrypt. */
export function isUndecryptedSecret(v: unknown): v is typeof UNDECRYPTED_SECRET {
    return v === UNDECRYPTED_SECRET;
}
