// The channel credentials of tests that run members without TLS, from the one place that decides credentials.
import { channelCredentials, PLAINTEXT } from '../../shared/security/transport-security.js';

export const PLAINTEXT_CHANNEL = channelCredentials(PLAINTEXT, { watch: false });
